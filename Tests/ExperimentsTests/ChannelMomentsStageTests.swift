import Foundation
import NN
@testable import Pipeline
import XCTest
@testable import Experiments

final class ChannelMomentsStageTests: XCTestCase {
    private var fixture: AnalysisFixture!
    override func setUpWithError() throws { fixture = try AnalysisFixture("channel-moments") }
    override func tearDownWithError() throws { fixture.remove() }

    func testMomentsAreThoseOfTheConvOutputAndLogits() throws {
        let c = try fixture.run("channel-moments", ChannelMomentsStage(), smallNetwork + [("layers", [2, 4, 6, 8])])
        let result = try readJSON(ChannelMomentsStage.Result.self, c.output(ChannelMomentsStage.resultFile))
        XCTAssertEqual(result.layers, [2, 4, 6, 8])
        for key in ["bn", "nobn"] {
            let entries = try XCTUnwrap(result.networks[key])
            XCTAssertEqual(entries.map(\.channelMeans.count), [16, 32, 64, 10])
        }
        // Recompute layer 4 of the no-BN network from its NCHW conv output, and the logits' moments.
        let net = try AnalysisSetup.network(try c.params(NetworkParams.self), normalization: .none)
        let batch = try XCTUnwrap(AnalysisSetup.firstBatches(c, try c.params(NetworkParams.self), count: 1).first)
        try net.forward(images: batch.images, labels: batch.labels)
        let a = try net.activation(layer: 4)
        let (B, C, HW) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        let stored = try XCTUnwrap(result.networks["nobn"]?[1])
        for ch in 0..<C {
            var s = 0.0, s2 = 0.0
            for b in 0..<B { for p in 0..<HW { let v = Double(a.data[(b * C + ch) * HW + p]); s += v; s2 += v * v } }
            let n = Double(B * HW), mean = s / n, std = (s2 / n - mean * mean).squareRoot()
            XCTAssertEqual(stored.channelMeans[ch], mean, accuracy: 1e-5 * max(1, abs(mean)))
            XCTAssertEqual(stored.channelStds[ch], std, accuracy: 1e-4 * max(1, std))
        }
        let logits = try net.logits().data.map(Double.init)
        let meanClass0 = stride(from: 0, to: logits.count, by: 10).map { logits[$0] }.reduce(0, +) / Double(B)
        XCTAssertEqual(try XCTUnwrap(result.networks["nobn"]?[3]).channelMeans[0], meanClass0, accuracy: 1e-5 * max(1, abs(meanClass0)))
        // The plotted point is the mean over channels of log10, the error bar their std.
        let logs = stored.channelStds.map { log10($0) }
        XCTAssertEqual(stored.logStd.mean, logs.reduce(0, +) / Double(logs.count), accuracy: 1e-12)
        XCTAssertEqual(ChannelMomentsStage.LogSummary([1, 100]).mean, 1, accuracy: 1e-12)
        XCTAssertEqual(ChannelMomentsStage.LogSummary([1, 100]).std, 1, accuracy: 1e-12)
        let csv = try String(contentsOf: c.output("depth-profile.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 2 * 4)
        try fixture.renderFigure("fig5", from: fixture.outputs(of: c, kind: "channel-moments"))
    }
}

/// Fig. 5's BN stage pattern (issue 22): dips at layers 42 and 78 decided beyond their standard error.
final class ChannelMomentsStagePatternTests: XCTestCase {
    /// A ResNet-110 result whose BN means and stds are `values` at the paper's layers, with `spread` as the
    /// std over 64 channels of every point (SE = spread / 8).
    private func result(_ values: [Double], spread: Double) -> ChannelMomentsStage.Result {
        let layers = PaperNumbers.fig5Layers
        let entries = zip(layers, values).map { l, v -> ChannelMomentsStage.LayerMoments in
            // Half the channels at v − spread, half at v + spread: mean v, std spread (in log₁₀).
            let mags = (0..<64).map { pow(10, v + ($0 % 2 == 0 ? -spread : spread)) }
            let s = ChannelMomentsStage.LogSummary(mags)
            return ChannelMomentsStage.LayerMoments(layer: l, channelMeans: mags, channelStds: mags, logAbsMean: s, logStd: s)
        }
        return ChannelMomentsStage.Result(depth: 110, batches: 1, batchSize: 128, layers: layers, logBase: .ten,
                                          growth: [:], perSeed: [["bn": entries]])
    }

    func testThePapersOwnPointsHoldAndAFlatOrInvertedProfileDoesNot() throws {
        let paper = try XCTUnwrap(ChannelMomentsStage.stagePattern(result(PaperNumbers.fig5StdsBN, spread: 0.5)))
        XCTAssertEqual(paper.verdict, .holds, paper.ours)
        // Dips of 0.05 with SE ≈ 0.09: inside the noise.
        var flat = [Double](repeating: 0.5, count: 10)
        flat[3] = 0.45; flat[6] = 0.45
        XCTAssertEqual(ChannelMomentsStage.stagePattern(result(flat, spread: 0.5))?.verdict, .inconclusive)
        // Layer 78 a full unit above its neighbours: the pattern is contradicted.
        var inverted = PaperNumbers.fig5StdsBN
        inverted[6] = 2
        XCTAssertEqual(ChannelMomentsStage.stagePattern(result(inverted, spread: 0.5))?.verdict, .fails)
        // Over seeds the SE is the seeds': two seeds whose dips agree hold, two that disagree in sign do not.
        func seeds(_ a: [Double], _ b: [Double]) -> ChannelMomentsStage.Result {
            let ra = result(a, spread: 0.5), rb = result(b, spread: 0.5)
            return ChannelMomentsStage.Result(depth: 110, batches: 1, batchSize: 128, layers: ra.layers, logBase: .ten,
                                              growth: [:], perSeed: ra.perSeed + rb.perSeed)
        }
        XCTAssertEqual(ChannelMomentsStage.stagePattern(seeds(PaperNumbers.fig5StdsBN, PaperNumbers.fig5StdsBN.map { $0 + 0.05 }))?.verdict, .holds)
        XCTAssertEqual(ChannelMomentsStage.stagePattern(seeds(PaperNumbers.fig5StdsBN, inverted))?.verdict, .inconclusive)
        // Not the paper's network: no claim.
        let shallow = result(PaperNumbers.fig5StdsBN, spread: 0.5)
        XCTAssertNil(ChannelMomentsStage.stagePattern(ChannelMomentsStage.Result(depth: 56, batches: 1, batchSize: 128, layers: shallow.layers,
                                                                                 logBase: .ten, growth: [:], perSeed: shallow.perSeed)))
    }
}
