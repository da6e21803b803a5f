import Datasets
import Foundation
import NN
@testable import Experiments
@testable import Pipeline
import XCTest

/// `relative-loss` on a depth-8 network and tiny learnable data.
final class RelativeLossStageTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("relative-loss") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testRelativeLossTendsToOneForSmallStepsAndDropsAlongTheGradient() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 160, test: 20), in: dir)
        let ctx = try ExperimentFixtures.context("relative-loss", RelativeLossStage(), [
            ("depth", 8), ("batchSize", 32), ("miniBatches", [1, 3]), ("stepMin", 1e-7), ("stepMax", 0.1), ("stepCount", 7),
        ], inputs: [decode], in: dir)
        try RelativeLossStage().run(ctx)
        let result = try ResultJSON.read(RelativeLossResult.self, from: ctx.output(RelativeLossStage.resultFile))
        XCTAssertEqual(result.curves.map(\.normalization), [.batchNorm, .batchNorm, .none, .none])
        XCTAssertEqual(result.curves.map(\.miniBatch), [1, 3, 1, 3])
        for c in result.curves {
            XCTAssertEqual(c.stepSizes.count, 7)
            XCTAssertEqual(c.stepSizes[0], 1e-7, accuracy: 1e-12)
            XCTAssertEqual(c.stepSizes[6], 0.1, accuracy: 1e-9)
            // s → 0: the loss is the loss at θ.
            XCTAssertEqual(c.relativeLoss[0], 1, accuracy: 1e-3, "\(c.normalization) batch \(c.miniBatch)")
            XCTAssertEqual(c.relativeLoss[0], c.losses[0] / c.baseLoss, accuracy: 1e-12)
            // A small step along −∇L lowers the loss (first order): somewhere on the grid r < 1.
            XCTAssertLessThan(c.relativeLoss.filter(\.isFinite).min() ?? 2, 1, "\(c.normalization) batch \(c.miniBatch)")
            XCTAssertGreaterThan(c.gradientNorm, 0)
        }
        // The BN net's batch 3 is probed after two SGD steps at 0.1: its θ differs from batch 1's, so
        // the base losses differ from a fresh net's loss on batch 3.
        let csv = try String(contentsOf: ctx.output(RelativeLossStage.outputCSV), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 4 * 7)
    }

    func testRejectsBatchesBeyondTheFirstEpoch() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 64, test: 10), in: dir)
        let ctx = try ExperimentFixtures.context("relative-loss", RelativeLossStage(), [
            ("depth", 8), ("batchSize", 32), ("miniBatches", [1, 7]),
        ], inputs: [decode], in: dir)
        XCTAssertThrowsError(try RelativeLossStage().run(ctx)) { XCTAssertTrue("\($0)".contains("miniBatches"), "\($0)") }
    }
}
