import Datasets
import Foundation
@testable import Experiments
@testable import Pipeline
import XCTest

/// The `figure` stage draws Figs. 1, 3 and 4 from real (tiny) stage outputs into PNGs that carry their
/// provenance, and SVGs.
final class TrainingFiguresTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("training-figures") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func render(_ figure: String, inputs: [StageInputs], expect name: String) throws -> String {
        let stage = FigureStage(recipes: ExperimentKinds.figureRecipes)
        let ctx = try ExperimentFixtures.context(figure, stage, [("figure", .string(figure))], inputs: inputs, in: dir)
        try stage.run(ctx)
        let png = try Data(contentsOf: ctx.output("\(name).png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertTrue(FileManager.default.fileExists(atPath: ctx.output("\(name).svg").path))
        // tEXt chunks are Latin-1 keyword\0text: look for the stage key and the stage name.
        let text = String(decoding: png, as: UTF8.self)
        XCTAssertTrue(text.contains("StageKey\u{0}key-\(figure)"), "no provenance in \(name).png")
        return text
    }

    func testFigures134RenderWithProvenance() throws {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 128, test: 40), in: dir)
        let relative = try ExperimentFixtures.context("relative-loss", RelativeLossStage(), [
            ("depth", 8), ("batchSize", 32), ("miniBatches", [1, 2]), ("stepCount", 5),
        ], inputs: [decode], in: dir)
        try RelativeLossStage().run(relative)
        _ = try render("fig3", inputs: [try ExperimentFixtures.outputs(of: relative, kind: "relative-loss")], expect: "fig3-relative-loss")

        let diverging = try ExperimentFixtures.context("diverging-update", DivergingUpdateStage(), [
            ("depth", 8), ("batchSize", 32), ("lr", 5.0), ("layers", [2, 4, 6]), ("points", 6),
        ], inputs: [decode], in: dir)
        try DivergingUpdateStage().run(diverging)
        _ = try render("fig4", inputs: [try ExperimentFixtures.outputs(of: diverging, kind: "diverging-update")],
                       expect: "fig4-diverging-update-moments")

        var runs: [StageInputs] = []
        for (bn, lr, seed) in [(true, 0.05, 0), (true, 0.05, 1), (false, 50.0, 0)] {
            let name = "train-\(bn)-\(seed)"
            let ctx = try ExperimentFixtures.context(name, TrainStage(), [
                ("depth", 8), ("batchSize", 32), ("bn", .bool(bn)), ("lr", .number(lr)), ("seed", .number(Double(seed))), ("epochs", 1),
                ("evaluationsPerEpoch", 2),
            ], inputs: [decode], in: dir)
            try TrainStage().run(ctx)
            runs.append(try ExperimentFixtures.outputs(of: ctx, kind: "train"))
        }
        _ = try render("fig1", inputs: runs, expect: "fig1-accuracy")
    }

    func testFig1CaptionStatesTheBudget() {
        var m = TrainMetrics(normalization: .batchNorm, learningRate: 0.1, depth: 20, seed: 0, epochs: 10, trainImages: 10_000,
                             testImages: 2_000, stepsPerEpoch: 78, totalSteps: 780, evaluations: [], diverged: false,
                             divergenceStep: nil, divergenceLoss: nil)
        var other = m
        other.seed = 1
        XCTAssertEqual(Fig1Accuracy.caption([m, other], drops: [[0.5, 0.75]]),
                       "ResNet-20 on 10000 train / 2000 test images (subsets), 10 epochs, lr ÷10 at 50 % and 75 %; 2 seeds, mean ± std; "
                       + "0 of 2 runs at plateau")
        // With endpoints: the final test set and the plateau count.
        m.endpoint = TrainEndpoint(trainAccuracy: 0.97, trainImages: 10_000, plateauAccuracy: 0.95, testAccuracy: 0.8, testImages: 10_000)
        other.endpoint = TrainEndpoint(trainAccuracy: 0.90, trainImages: 10_000, plateauAccuracy: 0.95, testAccuracy: 0.7, testImages: 10_000)
        XCTAssertEqual(Fig1Accuracy.caption([m, other], drops: [[0.5, 0.75]]),
                       "ResNet-20 on 10000 train / 2000 test images (subsets; final on 10000), 10 epochs, lr ÷10 at 50 % and 75 %; "
                       + "2 seeds, mean ± std; 1 of 2 runs at plateau")
        XCTAssertEqual(Fig1Accuracy.rateText(0.0001), "0.0001")
        XCTAssertEqual(Fig1Accuracy.rateText(0.1), "0.1")
    }
}
