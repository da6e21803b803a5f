import Foundation
import NN
@testable import Pipeline
import Tensor
import XCTest
@testable import Experiments

final class GradientCoherenceStageTests: XCTestCase {
    private var fixture: AnalysisFixture!
    override func setUpWithError() throws { fixture = try AnalysisFixture("gradient-coherence") }
    override func tearDownWithError() throws { fixture.remove() }

    /// The GEMM formulation against the definition, summand by summand, with stride 1 and 2.
    func testSummandSumsMatchTheDefinition() throws {
        for stride in [1, 2] {
            let (B, Ci, Co, H) = (2, 3, 4, 6), Ho = H / stride
            let input = Tensor.normal([B, Ci, H, H], rng: Philox(seed: 1))
            let grad = Tensor.normal([B, Co, Ho, Ho], rng: Philox(seed: 2))
            let sums = GradientCoherenceStage.summandSums(input: input, outputGradient: grad, stride: stride)
            for o in 0..<Co {
                for i in 0..<Ci {
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            var a = 0.0, s = 0.0
                            for b in 0..<B {
                                for y in 0..<Ho {
                                    for x in 0..<Ho {
                                        let iy = stride * y + ky - 1, ix = stride * x + kx - 1
                                        guard iy >= 0, iy < H, ix >= 0, ix < H else { continue }
                                        let d = Double(grad[b, o, y, x]) * Double(input[b, i, iy, ix])
                                        a += abs(d); s += d
                                    }
                                }
                            }
                            let k = ((o * Ci + i) * 3 + ky) * 3 + kx
                            XCTAssertEqual(Double(sums.absSum[k]), a, accuracy: 1e-4)
                            XCTAssertEqual(Double(sums.sum[k]), s, accuracy: 1e-4)
                            XCTAssertGreaterThanOrEqual(Double(sums.absSum[k]) + 1e-5, abs(Double(sums.sum[k])), "Σ|d| ≥ |Σd|")
                        }
                    }
                }
            }
        }
    }

    func testTableAgreesWithTheEngineGradientAndTheMapIsItsKernelSum() throws {
        // Layer 4 is ResNet-8's stride-2 conv (16 → 32), layer 5 a 32 → 32 conv.
        let c = try fixture.run("gradient-coherence", GradientCoherenceStage(), smallNetwork + [("layers", [3, 4, 5]), ("mapLayer", 5)])
        let result = try readJSON(GradientCoherenceStage.Result.self, c.output(GradientCoherenceStage.resultFile))
        XCTAssertEqual(result.rows.count, 6)
        for r in result.rows {
            XCTAssertLessThan(r.maxDeviationFromEngine, 1e-3, "\(r.network) layer \(r.layer)")
            XCTAssertGreaterThanOrEqual(r.ratioOfMeans, 1 - 1e-6, "mean Σ|d| ≥ mean |Σd|")
            XCTAssertGreaterThanOrEqual(r.medianRatio, 1 - 1e-6)
        }
        let net = try AnalysisSetup.network(try c.params(NetworkParams.self), normalization: .batchNorm)
        let batch = try XCTUnwrap(AnalysisSetup.firstBatches(c, try c.params(NetworkParams.self), count: 1).first)
        try net.forward(images: batch.images, labels: batch.labels)
        try net.backward()
        let g = try net.weightGradient(layer: 5)
        let map = try readNPY(c.output("channel-map-bn.npy"))
        XCTAssertEqual(map.shape, [32, 32])
        for (i, o) in [(0, 0), (3, 17), (31, 2)] {
            let expected = (0..<3).flatMap { y in (0..<3).map { x in abs(Double(g[o, i, y, x])) } }.reduce(0, +)
            XCTAssertEqual(map.values[i * 32 + o], expected, accuracy: 1e-6 * max(1, expected))
        }
        // σ₁²/Σσ² is a share of the squared norm.
        let summary = try XCTUnwrap(result.maps.first { $0.network == "bn" })
        XCTAssertGreaterThan(summary.rankOneEnergy, 0)
        XCTAssertLessThanOrEqual(summary.rankOneEnergy, 1 + 1e-12)
        let md = try String(contentsOf: c.output("table1.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| 4 | with BN |"), md)
        try fixture.renderFigure("fig7", from: fixture.outputs(of: c, kind: "gradient-coherence"))
    }
}

/// Table 1's two statements, decided apart over seeds (issue 22, item 4).
final class Table1ClaimsTests: XCTestCase {
    private func result(noBN: [Double], bn: [Double]) -> GradientCoherenceStage.Result {
        func row(_ network: String, _ ratio: Double) -> GradientCoherenceStage.Row {
            GradientCoherenceStage.Row(network: network, layer: 18, inChannels: 16, outChannels: 16, meanAbsSum: ratio, meanSumAbs: 1,
                                       ratioOfMeans: ratio, medianRatio: ratio, maxDeviationFromEngine: 0)
        }
        let perSeed = zip(noBN, bn).map { [row("nobn", $0), row("bn", $1)] }
        return GradientCoherenceStage.Result(depth: 20, batch: 0, batchSize: 128, maps: [], rowsPerSeed: perSeed)
    }

    private func verdicts(_ r: GradientCoherenceStage.Result) -> [String: Claim.Verdict] {
        Dictionary(uniqueKeysWithValues: GradientCoherenceStage.claims(r).map { ($0.id, $0.verdict) })
    }

    func testAddingUpAndCancellingAreDecidedApart() {
        let paperLike = verdicts(result(noBN: [1.3, 1.5, 1.4], bn: [90, 110, 100]))
        XCTAssertEqual(paperLike["table1.nobn-adds-up"], .holds)
        XCTAssertEqual(paperLike["table1.coherence-ratio"], .holds)
        // Without BN the summands cancel too (ratio 5): the first statement fails, the second is 20× and holds.
        let bothCancel = verdicts(result(noBN: [5, 5.2, 4.8], bn: [100, 105, 95]))
        XCTAssertEqual(bothCancel["table1.nobn-adds-up"], .fails)
        XCTAssertEqual(bothCancel["table1.coherence-ratio"], .holds)
        // Seeds that straddle the bar decide nothing.
        XCTAssertEqual(verdicts(result(noBN: [1.2, 3.5], bn: [100, 100]))["table1.nobn-adds-up"], .inconclusive)
    }
}
