import Datasets
import Foundation
import NN
@testable import Experiments
@testable import Pipeline
import XCTest

/// `rate-choice` (App. E, issue 22 item 3): each rate's runs evaluated on images none of them trained on,
/// and the choice made on that, never on the test set.
final class RateChoiceTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("rate-choice") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testTheRateThatLearnsIsChosenOnImagesNoRunTrainedOn() throws {
        let data = try ExperimentFixtures.learnableData(train: 320, test: 100)
        let decode = try ExperimentFixtures.decodeInput(data, in: dir)
        func train(_ name: String, lr: Double) throws -> StageInputs {
            let ctx = try ExperimentFixtures.context(name, TrainStage(), [
                ("depth", 8), ("batchSize", 32), ("lr", .number(lr)), ("epochs", 12), ("drops", [0.75]), ("trainPerClass", 16),
            ], inputs: [decode], in: dir)
            try TrainStage().run(ctx)
            return try ExperimentFixtures.outputs(of: ctx, kind: TrainStage.kindName)
        }
        let learns = try train("learns", lr: 0.05), stuck = try train("stuck", lr: 1e-6)
        let ctx = try ExperimentFixtures.context("choice", RateChoiceStage(), [("validationPerClass", 10)],
                                                 inputs: [decode, learns, stuck], in: dir)
        try RateChoiceStage().run(ctx)
        let choice = try ResultJSON.read(RateChoice.self, from: ctx.output(RateChoiceStage.resultFile))
        XCTAssertEqual(choice.validationImages, 100)
        XCTAssertEqual(choice.rates.map(\.learningRate), [1e-6, 0.05])
        XCTAssertEqual(choice.chosen?.learningRate, 0.05)
        XCTAssertTrue(choice.chosenAtPlateau)
        XCTAssertGreaterThan(choice.rates[1].validation.mean, choice.rates[0].validation.mean + 0.2, "\(choice.rates.map(\.validation.values))")

        // The split: 10 per class, disjoint from the 16 per class the runs trained on.
        let trained = Set(try Subsets.stratified(labels: data.train.labels, perClass: 16, seed: 0))
        let params = try ctx.params(RateChoiceStage.Params.self)
        let loaded = try AnalysisSetup.data(ctx)
        let validation = try RateChoiceStage.validationIndices([try learns.params(TrainStage.Params.self)], loaded: loaded, params: params, stage: "choice")
        XCTAssertEqual(validation.count, 100)
        XCTAssertTrue(trained.isDisjoint(with: validation))
        // The stored accuracy is the checkpoint's on those images, recomputed here by hand.
        let model = try ResNet(checkpointAt: learns.files[TrainStage.checkpoint]!)
        let input = try AnalysisSetup.input(try learns.params(TrainStage.Params.self).network, loaded)
        let batch = try BatchAssembler(source: data.train, indices: validation, normalization: input, options: .evaluation(batchSize: 100))
            .batch(epoch: 0, index: 0)
        let direct = try model.evaluate(images: batch.images, labels: batch.labels, batchSize: 100)
        XCTAssertEqual(choice.rates[1].validation.values[0], direct.accuracy, accuracy: 1e-12)
        XCTAssertTrue(try String(contentsOf: ctx.output(RateChoiceStage.tableFile(.batchNorm)), encoding: .utf8).contains("**yes**"))
    }

    func testARunOnEveryTrainingImageLeavesNothingToValidateOnAndSaysSo() throws {
        let data = try ExperimentFixtures.learnableData(train: 100, test: 20)
        let decode = try ExperimentFixtures.decodeInput(data, in: dir)
        let ctx = try ExperimentFixtures.context("all", TrainStage(), [("depth", 8), ("batchSize", 20), ("lr", 0.01), ("epochs", 1)],
                                                 inputs: [decode], in: dir)
        try TrainStage().run(ctx)
        let choice = try ExperimentFixtures.context("choice", RateChoiceStage(), [], inputs: [decode, try ExperimentFixtures.outputs(of: ctx, kind: "train")], in: dir)
        XCTAssertThrowsError(try RateChoiceStage().run(choice)) {
            XCTAssertTrue("\($0)".contains("trainPerClass 0") && "\($0)".contains("'choice'"), "\($0)")
        }
    }

    /// The rule: a rate at its plateau beats a better-validating one that is not; with none at plateau the
    /// best of the rest is chosen and marked; a rate with a diverged run is never chosen.
    func testTheChoicePrefersRatesAtTheirPlateau() {
        func rate(_ lr: Double, _ acc: [Double], plateau: Bool, diverged: Int = 0) -> RateChoice.Rate {
            RateChoice.Rate(learningRate: lr, stages: acc.indices.map { "s\($0)" }, epochs: [10], diverged: diverged, atPlateau: plateau,
                            validation: SeededAccuracy(values: acc, images: 1000))
        }
        let mixed = RateChoice(normalization: .none, validationImages: 1000,
                               rates: [rate(0.01, [0.40, 0.42], plateau: true), rate(0.1, [0.50, 0.52], plateau: false)])
        XCTAssertEqual(mixed.chosen?.learningRate, 0.01)
        XCTAssertTrue(mixed.chosenAtPlateau)
        let unfinished = RateChoice(normalization: .none, validationImages: 1000,
                                    rates: [rate(0.01, [0.40], plateau: false), rate(0.1, [0.50], plateau: false), rate(1, [0.9], plateau: false, diverged: 1)])
        XCTAssertEqual(unfinished.chosen?.learningRate, 0.1)
        XCTAssertFalse(unfinished.chosenAtPlateau)
        XCTAssertNil(RateChoice(normalization: .none, validationImages: 1000, rates: [rate(1, [0.1], plateau: false, diverged: 1)]).chosen)
    }
}
