import Datasets
import Foundation
import NN
@testable import Experiments
@testable import Pipeline
import XCTest

/// `diverging-update` on a depth-8 unnormalised network driven to divergence by a huge rate.
final class DivergingUpdateStageTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("diverging-update") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testFindsTheDivergingUpdateAndItsFirstRowIsTheMomentsAtTheta() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 160, test: 20), in: dir)
        let ctx = try ExperimentFixtures.context("diverging-update", DivergingUpdateStage(), [
            ("depth", 8), ("batchSize", 32), ("lr", 5.0), ("layers", [2, 7]), ("points", 5), ("maxSteps", 20),
        ], inputs: [decode], in: dir)
        try DivergingUpdateStage().run(ctx)
        let r = try ResultJSON.read(DivergingUpdateResult.self, from: ctx.output(DivergingUpdateStage.resultFile))
        XCTAssertFalse(r.divergentAtInitialization)
        XCTAssertTrue(!r.divergedLoss.isFinite || r.divergedLoss > 1e3, "\(r.divergedLoss)")
        XCTAssertEqual(r.lossesBefore.count, r.updateStep + 2)
        XCTAssertTrue(r.lossesBefore.dropLast().allSatisfy { $0.isFinite && $0 <= 1e3 })
        XCTAssertEqual(r.t, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(r.layers.map(\.layer), [2, 7])
        XCTAssertEqual(r.layers.map(\.channels), [16, 64])
        XCTAssertEqual(r.layers[0].means.count, 5)

        // Replay: the same network and batches, `updateStep` SGD steps at the same rate, give θ; the
        // moments there on the update's batch are the t = 0 row.
        let model = try AnalysisSetup.network(try ctx.params(NetworkParams.self), normalization: .none)
        var trainer = try AnalysisSetup.constantRateTrainer(model, learningRate: r.learningRate, try ctx.params(OptimizerParams.self))
        let batches = try AnalysisSetup.batches(try ctx.params(NetworkParams.self), try AnalysisSetup.data(ctx))
        func batch(_ k: Int) -> ImageBatch {
            batches.batch(epoch: k / batches.batchesPerEpoch, index: k % batches.batchesPerEpoch)
        }
        for k in 0..<r.updateStep { try trainer.trainStep(batch(k), totalSteps: 1000) }
        let b = batch(r.updateStep)
        let loss = try model.forward(images: b.images, labels: b.labels, mode: .training)
        XCTAssertEqual(loss, r.lossAlongUpdate[0], accuracy: 1e-4 * max(1, abs(loss)))
        for layer in r.layers {
            let m = try model.channelMoments(layer: layer.layer)
            for c in 0..<layer.channels {
                XCTAssertEqual(layer.means[0][c], m.mean[c], accuracy: 1e-5 * max(1, abs(m.mean[c])))
                XCTAssertEqual(layer.variances[0][c], m.variance[c], accuracy: 1e-5 * max(1, m.variance[c]))
            }
        }
        // Along the update the deepest layer's scale grows: its largest variance at t = 1 exceeds t = 0's.
        XCTAssertGreaterThan(r.layers[1].variances[4].max() ?? 0, r.layers[1].variances[0].max() ?? .infinity)
    }

    func testNoDivergenceIsRecordedWithTheRatesTried() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 64, test: 10), in: dir)
        let ctx = try ExperimentFixtures.context("diverging-update", DivergingUpdateStage(), [
            ("depth", 8), ("batchSize", 32), ("lr", 1e-6), ("lrTries", 3), ("layers", [2]), ("points", 3), ("maxSteps", 2),
        ], inputs: [decode], in: dir)
        try DivergingUpdateStage().run(ctx)
        let r = try ResultJSON.read(DivergingUpdateResult.self, from: ctx.output(DivergingUpdateStage.resultFile))
        // A smaller rate diverges no sooner: the descending rule stops at the first rate that does not diverge.
        XCTAssertEqual(r.outcome, .noDivergence)
        XCTAssertEqual(r.nonDivergingRates, [1e-6])
        XCTAssertTrue(r.layers.isEmpty && r.t.isEmpty)
    }

    func testSmallestDivergingRateWalksUpTheGrid() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 160, test: 20), in: dir)
        let ctx = try ExperimentFixtures.context("diverging-update", DivergingUpdateStage(), [
            ("depth", 8), ("batchSize", 32), ("rateRule", "smallestDiverging"), ("lrGrid", [5.0, 1e-6]), ("layers", [2, 7]),
            ("points", 3), ("maxSteps", 20),
        ], inputs: [decode], in: dir)
        try DivergingUpdateStage().run(ctx)
        let r = try ResultJSON.read(DivergingUpdateResult.self, from: ctx.output(DivergingUpdateStage.resultFile))
        XCTAssertEqual(r.rateRule, "smallestDiverging")
        XCTAssertEqual(r.outcome, .diverged)
        XCTAssertEqual(r.nonDivergingRates, [1e-6])
        XCTAssertEqual(r.learningRate, 5.0)
        XCTAssertEqual(r.t.count, 3)
    }

    func testAnOverflowingRateIsLoweredAndRecorded() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 160, test: 20), in: dir)
        func run(tries: Int) throws -> DivergingUpdateResult {
            let ctx = try ExperimentFixtures.context("diverging-update-\(tries)", DivergingUpdateStage(), [
                ("depth", 8), ("batchSize", 32), ("lr", 5e30), ("lrFactor", 1e30), ("lrTries", .number(Double(tries))),
                ("layers", [2, 7]), ("points", 3), ("maxSteps", 20),
            ], inputs: [decode], in: dir)
            try DivergingUpdateStage().run(ctx)
            return try ResultJSON.read(DivergingUpdateResult.self, from: ctx.output(DivergingUpdateStage.resultFile))
        }
        let once = try run(tries: 1)
        XCTAssertEqual(once.outcome, .overflowed)
        XCTAssertEqual(once.overflowedRates, [5e30])
        XCTAssertTrue(once.layers.isEmpty)
        let twice = try run(tries: 2)
        XCTAssertEqual(twice.outcome, .diverged)
        XCTAssertEqual(twice.overflowedRates, [5e30])
        XCTAssertEqual(twice.learningRate, 5, accuracy: 1e-9)
        XCTAssertTrue(twice.layers.allSatisfy { $0.variances.joined().allSatisfy(\.isFinite) })
    }

    func testAnUnknownRateRuleIsRejectedByName() {
        XCTAssertThrowsError(try DivergingUpdateStage().validate(stage: "diverging-update", params: JSONObject([("rateRule", "largest")]), dependencyKinds: [])) {
            XCTAssertTrue("\($0)".contains("rateRule") && "\($0)".contains("smallestDiverging"), "\($0)")
        }
    }
}

/// Synthetic diverging-update results: one channel per layer, its variance along t given.
enum SyntheticDivergingUpdate {
    static func result(_ curves: [Int: [Double]], means: [Int: Double] = [:], t: [Double] = [0, 0.25, 0.5, 0.75, 0.85, 0.95, 1],
                       outcome: DivergingUpdateOutcome = .diverged) -> DivergingUpdateResult {
        DivergingUpdateResult(depth: 110, seed: 0, rateRule: "largestRepresentable", outcome: outcome, learningRate: 0.1, overflowedRates: [],
                              nonDivergingRates: [], stableSteps: 0, stableLearningRate: 1e-4, updateStep: 0, divergedLoss: 1e4,
                              divergentAtInitialization: true, threshold: 1e3, lossesBefore: [], updateNorm: 1, t: t, lossAlongUpdate: t,
                              layers: curves.keys.sorted().map { l in
                                  LayerMoments(layer: l, channels: 1, means: curves[l]!.map { _ in [means[l] ?? 0] }, variances: curves[l]!.map { [$0] })
                              })
    }

    static func choice(_ r: DivergingUpdateResult) -> DivergingUpdateChoice {
        let c = DivergingUpdateChoiceStage.candidate(stage: "diverging-update@x", description: "test", r)
        return DivergingUpdateChoice(candidates: [c], chosenStage: c.stage, chosenDescription: c.description, chosen: r)
    }
}

/// Fig. 4's claims read as the paper's linear colour bars show them (issue 22, item 2).
final class DivergingUpdateClaimsTests: XCTestCase {
    private func result(_ curves: [Int: [Double]]) -> DivergingUpdateResult { SyntheticDivergingUpdate.result(curves) }

    private func verdicts(_ r: DivergingUpdateResult) -> [String: Claim.Verdict] {
        Dictionary(uniqueKeysWithValues: DivergingUpdateChoiceStage.claims(SyntheticDivergingUpdate.choice(r)).map { ($0.id, $0.verdict) })
    }
    func testPapersShapeHoldsAndAnEarlyOrOverflowingOneFails() {
        // Layer 8 falls (visible from t = 0), layer 44 rises from mid-step, layer 80 only in the last 15 %.
        let paper = result([8: [1, 0.9, 0.8, 0.7, 0.65, 0.6, 0.6], 44: [0.1, 1, 10, 300, 1e3, 2e3, 3e3],
                            80: [1, 10, 1e3, 1e6, 1e15, 1e16, 5e16]])
        let v = verdicts(paper)
        XCTAssertEqual(v["fig4.late-explosion"], .holds)
        XCTAssertEqual(v["fig4.end-scale"], .holds)
        XCTAssertEqual(v["fig4.depth-scale"], .holds)
        // Layer 80 visible from mid-step: not late.
        let early = result([8: [1, 1, 1, 1, 1, 1, 1], 44: [1, 1, 1, 1, 1, 1, 10], 80: [1, 1, 1e16, 2e16, 3e16, 4e16, 5e16]])
        XCTAssertEqual(verdicts(early)["fig4.late-explosion"], .fails)
        // Thirty decades beyond the paper's scale: the end scale fails although the ratio passes.
        let overflowing = result([8: [1, 1, 1, 1, 1, 1, 1], 44: [1, 1, 1, 1, 1, 1, 10], 80: [1, 1, 1, 1, 1, 1, 1e46]])
        XCTAssertEqual(verdicts(overflowing)["fig4.end-scale"], .fails)
        XCTAssertEqual(verdicts(overflowing)["fig4.depth-scale"], .holds)
    }
}
