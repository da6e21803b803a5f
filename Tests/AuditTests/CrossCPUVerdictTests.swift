import ArrayFormats
import Audit
import Foundation
import Pipeline
import XCTest

/// Verdicts for results computed on another CPU (a pulled result), and the numbers they rest on.
final class CrossCPUVerdictTests: XCTestCase {
    func testNumericDifferenceIsNilUnlessEveryDifferenceIsANumber() throws {
        let a = Data(NPY.encode(try NPYArray(float32: [1, 2, 4, 8], shape: [4])))
        let b = Data(NPY.encode(try NPYArray(float32: [1, 2, 4, 8.004], shape: [4])))
        XCTAssertEqual(try XCTUnwrap(NumericDifference.largestRelative(name: "m.npy", cached: a, recomputed: b)), 0.0005, accuracy: 1e-6)
        let reshaped = Data(NPY.encode(try NPYArray(float32: [1, 2, 4, 8], shape: [2, 2])))
        XCTAssertNil(NumericDifference.largestRelative(name: "m.npy", cached: a, recomputed: reshaped))
        XCTAssertEqual(try XCTUnwrap(NumericDifference.largestRelative(name: "r.json", cached: Data(#"{"loss": 2.0, "n": 3}"#.utf8),
                                                                          recomputed: Data(#"{"loss": 2.002, "n": 3}"#.utf8))), 0.002 / 2.002, accuracy: 1e-9)
        XCTAssertNil(NumericDifference.largestRelative(name: "r.json", cached: Data(#"{"class": "cat"}"#.utf8), recomputed: Data(#"{"class": "dog"}"#.utf8)))
        XCTAssertNil(NumericDifference.largestRelative(name: "fig.png", cached: Data([1]), recomputed: Data([2])))
    }

    func testAnotherCPUGivesAToleranceVerdictOnlyWhereTheKindHasOne() {
        let small = [StageAudit.Output(name: "m.npy", result: .differs, largestRelative: 4e-6)]
        let large = [StageAudit.Output(name: "m.npy", result: .differs, largestRelative: 0.2)]
        let text = [StageAudit.Output(name: "t.csv", result: .differs)]
        func verdict(_ outputs: [StageAudit.Output], cpus: (String, String) = ("Intel Xeon", "AMD EPYC"), tolerance: Double?) -> StageAudit.Verdict {
            StageAudit.verdict(outputs: outputs, originalThreads: 2, auditThreads: 2, originalCPU: cpus.0, auditCPU: cpus.1, tolerance: tolerance)
        }
        XCTAssertEqual(verdict(small, tolerance: 1e-3), .withinTolerance)
        XCTAssertEqual(verdict(large, tolerance: 1e-3), .differsWithCPU)
        XCTAssertEqual(verdict(text, tolerance: 1e-3), .differsWithCPU, "a difference that is not numeric has no tolerance")
        XCTAssertEqual(verdict(small, tolerance: nil), .differsWithCPU, "a chaotic kind (training) has no tolerance")
        XCTAssertEqual(verdict(small, cpus: ("AMD EPYC", "AMD EPYC"), tolerance: 1e-3), .differs, "on the same CPU a difference is a failure")

        let audit = StageAudit(stage: "init", kind: "init", key: String(repeating: "a", count: 64), audited: Date(), commit: nil,
                               originalThreads: 2, auditThreads: 2, originalCPU: "Intel Xeon", auditCPU: "AMD EPYC",
                               verdict: .differsWithCPU, outputs: large, wallSeconds: 1)
        XCTAssertEqual(audit.verdictText, "differs (CPU Intel Xeon vs AMD EPYC)")
        XCTAssertFalse(audit.isFailure)
    }
}
