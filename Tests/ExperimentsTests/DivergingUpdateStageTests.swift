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
        let model = try AnalysisSetup.network(ctx, normalization: .none)
        var trainer = try AnalysisSetup.constantRateTrainer(model, learningRate: r.learningRate, context: ctx)
        let batches = try AnalysisSetup.batches(ctx, try AnalysisSetup.data(ctx))
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

    func testNoDivergenceIsAnErrorNamingTheRate() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 64, test: 10), in: dir)
        let ctx = try ExperimentFixtures.context("diverging-update", DivergingUpdateStage(), [
            ("depth", 8), ("batchSize", 32), ("lr", 1e-6), ("layers", [2]), ("points", 3), ("maxSteps", 2),
        ], inputs: [decode], in: dir)
        XCTAssertThrowsError(try DivergingUpdateStage().run(ctx)) {
            XCTAssertTrue("\($0)".contains("diverging-update") && "\($0)".contains("lr"), "\($0)")
        }
    }
}
