import ArrayFormats
import Audit
import Foundation
import Pipeline
import Plot
import XCTest

/// What `audit` says about two versions of an output, format by format, on files made here.
final class OutputComparisonTests: XCTestCase {
    func testJSONNamesEveryDifferingFieldByPathBeforeAndAfter() throws {
        let before = try JSONParser.parse(#"{"depth": 8, "loss": 2.5, "runs": [{"acc": 0.1}, {"acc": 0.2}], "name": "a", "gone": 1}"#)
        let after = try JSONParser.parse(#"{"depth": 8, "loss": 2.5000001, "runs": [{"acc": 0.1}, {"acc": 0.25}], "name": "b", "new": true}"#)
        let changes = JSONDifference.changes(before, after)
        XCTAssertEqual(changes.map(\.path), ["loss", "runs[1].acc", "name", "gone", "new"])
        let lines = JSONDifference.describe(before: before, after: after)
        XCTAssertEqual(Array(lines.prefix(5)), ["loss: 2.5 → 2.5000001", "runs[1].acc: 0.2 → 0.25", #"name: "a" → "b""#,
                                                "gone: 1 → absent", "new: absent → true"])
        XCTAssertEqual(lines.last, "largest numeric difference 0.05 (at runs[1].acc), largest relative 0.2")
    }

    func testJSONListIsBoundedAndCountsTheRest() throws {
        let before = JSONValue.array((0..<30).map { JSONValue.number(Double($0)) })
        let after = JSONValue.array((0..<30).map { JSONValue.number(Double($0) + 1) })
        let lines = JSONDifference.describe(before: before, after: after, limit: 4)
        XCTAssertEqual(lines.count, 6, "\(lines)")
        XCTAssertEqual(lines[0], "[0]: 0 → 1")
        XCTAssertEqual(lines[4], "… and 26 more fields differ")
        XCTAssertTrue(lines[5].hasPrefix("largest numeric difference 1 (at [0])"), lines[5])
        XCTAssertEqual(JSONDifference.describe(before: .array([1, 2]), after: .array([1, 2, 3])), ["(the document): [1,2] → [1,2,3]"])
    }

    func testNPYGivesLargestAbsoluteAndRelativeDifference() throws {
        let a = NPY.encode(try NPYArray(float32: [1, 2, 4, 0], shape: [2, 2]))
        let b = NPY.encode(try NPYArray(float32: [1, 2.5, 4, 0.25], shape: [2, 2]))
        XCTAssertEqual(OutputComparison.details(name: "x.npy", cached: Data(a), recomputed: Data(b)),
                       ["2 of 4 values differ; largest absolute difference 0.5 (at 1), largest relative 1"])
        let c = NPY.encode(try NPYArray(float32: [1, 2, 4, 0], shape: [4]))
        XCTAssertEqual(OutputComparison.details(name: "x.npy", cached: Data(a), recomputed: Data(c)), ["shape (2, 2) → (4)"])
        XCTAssertEqual(OutputComparison.details(name: "x.npy", cached: Data(a), recomputed: Data("junk".utf8)).count, 1)
    }

    func testSafeTensorsNamesTensorsAndMetadataWorstFirst() throws {
        var old = SafeTensorsFile(metadata: ["steps": "10"])
        old.tensors["w"] = try SafeTensor(float32: [1, 2, 3], shape: [3])
        old.tensors["b"] = try SafeTensor(float32: [0.5], shape: [1])
        old.tensors["gone"] = try SafeTensor(float32: [0], shape: [1])
        var new = SafeTensorsFile(metadata: ["steps": "12"])
        new.tensors["w"] = try SafeTensor(float32: [1, 2, 3.5], shape: [3])
        new.tensors["b"] = try SafeTensor(float32: [0.75], shape: [1])
        let lines = OutputComparison.details(name: "final.safetensors", cached: Data(try SafeTensors.encode(old)),
                                             recomputed: Data(try SafeTensors.encode(new)))
        XCTAssertEqual(lines, ["metadata 'steps': 10 → 12", "tensor 'gone' only in the cached file",
                               "tensor 'w': 1 of 3 values differ; largest absolute difference 0.5 (at 2), largest relative 0.143",
                               "tensor 'b': 1 of 1 values differ; largest absolute difference 0.25 (at 0), largest relative 0.333"])
    }

    func testSafeTensorsJSONMetadataInAnotherKeyOrderIsNamedAsSuch() throws {
        var old = SafeTensorsFile(metadata: ["config": #"{"depth":8,"bn":true}"#, "note": "x"])
        old.tensors["w"] = try SafeTensor(float32: [1], shape: [1])
        var new = old
        new.metadata["config"] = #"{"bn":true,"depth":8}"#
        XCTAssertEqual(OutputComparison.details(name: "w.safetensors", cached: Data(try SafeTensors.encode(old)),
                                                recomputed: Data(try SafeTensors.encode(new))),
                       ["metadata 'config': the same JSON with its keys in another order"])
        new.metadata["config"] = #"{"bn":true,"depth":20}"#
        XCTAssertEqual(OutputComparison.details(name: "w.safetensors", cached: Data(try SafeTensors.encode(old)),
                                                recomputed: Data(try SafeTensors.encode(new))),
                       ["metadata 'config': depth: 8 → 20; largest numeric difference 12 (at depth), largest relative 0.6"])
    }

    func testPNGCountsDifferingPixelsAndTheLargestChannelDifference() throws {
        var pixels = [UInt8](repeating: 200, count: 4 * 4 * 3)
        let a = try PNGWriter.encode(width: 4, height: 3, rgba: pixels, text: [("GitCommit", "abc")])
        pixels[4 * 5 + 1] = 190  // pixel 5, green: 10 levels
        pixels[4 * 7 + 3] = 197  // pixel 7, alpha: 3 levels
        let b = try PNGWriter.encode(width: 4, height: 3, rgba: pixels, text: [("GitCommit", "abc")])
        XCTAssertEqual(OutputComparison.details(name: "fig.png", cached: Data(a), recomputed: Data(b)),
                       ["2 of 12 pixels differ (16.7 %), largest channel difference 10 of 255"])
        let stamped = try PNGWriter.encode(width: 4, height: 3, rgba: [UInt8](repeating: 200, count: 48), text: [("GitCommit", "def")])
        XCTAssertEqual(OutputComparison.details(name: "fig.png", cached: Data(a), recomputed: Data(stamped)),
                       ["pixels identical", "text chunk 'GitCommit': abc → def"])
        let wide = try PNGWriter.encode(width: 3, height: 4, rgba: pixels, text: [])
        XCTAssertEqual(OutputComparison.details(name: "fig.png", cached: Data(a), recomputed: Data(wide)), ["size 4×3 → 3×4 pixels"])
        XCTAssertTrue(OutputComparison.details(name: "fig.png", cached: Data(a), recomputed: Data(a.prefix(40)))[0]
            .hasPrefix("not a readable PNG"), "a truncated figure is reported, not a crash")
    }

    func testTextGivesTheFirstDifferingLine() {
        let lines = OutputComparison.details(name: "metrics.csv", cached: Data("h\n1,2\n3,4\n".utf8), recomputed: Data("h\n1,2\n3,5\n".utf8))
        XCTAssertEqual(lines, ["1 of 4 lines differ; the first, line 3: '3,4' → '3,5'"])
        XCTAssertEqual(OutputComparison.details(name: "blob.bin", cached: Data([0xff, 0xfe]), recomputed: Data([0xff])),
                       ["binary contents differ (2 → 1 bytes)"])
    }

    func testValueDifferenceTreatsNaNOnBothSidesAsEqual() {
        let d = ValueDifference.of([.nan, 1, .infinity], [.nan, 1, 2])
        XCTAssertEqual(d.differing, 1)
        XCTAssertEqual(d.nonFinite, 1)
        XCTAssertEqual(d.text, "1 of 3 values differ; 1 non-finite on one side only")
    }
}
