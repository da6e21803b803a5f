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
        let choice = try ExperimentFixtures.context("diverging-update-choice", DivergingUpdateChoiceStage(), [],
                                                    inputs: [try ExperimentFixtures.outputs(of: diverging, kind: "diverging-update")], in: dir)
        try DivergingUpdateChoiceStage().run(choice)
        _ = try render("fig4", inputs: [try ExperimentFixtures.outputs(of: choice, kind: "diverging-update-choice")],
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
        // With the download stage among its deps, the legend says which archive the runs trained on.
        func legend(_ inputs: [StageInputs]) throws -> [String] {
            let stage = FigureStage(recipes: ExperimentKinds.figureRecipes)
            let ctx = try ExperimentFixtures.context("fig1-legend", stage, [("figure", .string("fig1"))], inputs: inputs, in: dir)
            return try XCTUnwrap(Fig1Accuracy().figures(ctx).first).figure.sharedLegendEntries.map(\.label)
        }
        XCTAssertFalse(try legend(runs).contains { $0.hasPrefix("data: ") }, "no download stage among the deps: nothing said")
        let download = StageInputs(stage: "download", kind: "download",
                                   params: JSONObject([("md5", .string(CIFAR10Archive.teamRebuildMD5))]), files: [:])
        let labels = try legend(runs + [download])
        XCTAssertEqual(labels.filter { $0.hasPrefix("data: the team's JPEG-derived rebuild of CIFAR-10") }.count, 1, "\(labels)")
    }

    func testTheDataLineNamesTheArchive() {
        XCTAssertEqual(CIFAR10Archive.description(md5: DownloadStage.officialMD5), "data: the official CIFAR-10 archive")
        XCTAssertTrue(CIFAR10Archive.description(md5: "068F5E774BF515D3BF93EFD83A9717B0").hasPrefix("data: the team's JPEG-derived rebuild"))
        XCTAssertEqual(CIFAR10Archive.description(md5: String(repeating: "0", count: 32)),
                       "data: a CIFAR-10 archive with MD5 00000000000000000000000000000000, not the official one")
    }

    /// Claim 3 reads the probes (ResNet-110 at the large rate for 200 steps); the drawn net at the large
    /// rate is judged before its first drop.
    /// Claim 4 at the paper's scale: ResNet-110 without BN above 60 % training accuracy by 5 % of training.
    func testTheEarlyLearningClaimReadsResNet110AtFivePercent() {
        func run(depth: Int, seed: Int, at5: Double, diverged: Bool = false) -> TrainMetrics {
            let points = [(2.5, 0.3), (5.0, at5), (50.0, 0.9)]
            return TrainMetrics(normalization: .none, learningRate: 1e-4, depth: depth, seed: seed, epochs: 2400, trainImages: 50_000,
                                testImages: 10_000, stepsPerEpoch: 390, totalSteps: 390 * 2400,
                                evaluations: (diverged ? [] : points).map { TrainEvaluation(epoch: $0.0 * 24, step: Int($0.0 * 9360), percentOfTraining: $0.0,
                                                                                            learningRate: 1e-4, trainAccuracy: $0.1, trainLoss: 1,
                                                                                            testAccuracy: $0.1, testLoss: 1) },
                                diverged: diverged, divergenceStep: diverged ? 10 : nil, divergenceLoss: diverged ? 5e4 : nil)
        }
        func verdict(_ runs: [TrainMetrics]) -> Claim.Verdict? { Fig1Accuracy.earlyLearningClaim(runs, small: 1e-4, source: "")?.verdict }
        XCTAssertEqual(verdict([run(depth: 110, seed: 0, at5: 0.68), run(depth: 110, seed: 1, at5: 0.70)]), .holds)
        XCTAssertEqual(verdict([run(depth: 110, seed: 0, at5: 0.12), run(depth: 110, seed: 1, at5: 0.11)]), .fails)
        XCTAssertEqual(verdict([run(depth: 110, seed: 0, at5: 0.68), run(depth: 110, seed: 1, at5: 0.0, diverged: true)]), .inconclusive,
                       "a diverged seed counts as chance, and the seeds disagree")
        XCTAssertNil(verdict([run(depth: 20, seed: 0, at5: 0.9)]), "ResNet-20 says nothing about the paper's net")
    }

    func testTheLargeRateClaimsReadTheProbeAndThePointBeforeTheDrop() {
        func run(depth: Int, seed: Int, diverged: Bool, windows: [(step: Int, lr: Double, train: Double, test: Double)]) -> TrainMetrics {
            TrainMetrics(normalization: .none, learningRate: 0.1, depth: depth, seed: seed, epochs: windows.count, trainImages: 6_400,
                         testImages: 1_000, stepsPerEpoch: 50, totalSteps: 50 * windows.count,
                         evaluations: windows.map { TrainEvaluation(epoch: Double($0.step) / 50, step: $0.step, percentOfTraining: 0,
                                                                    learningRate: Double(Float($0.lr)), trainAccuracy: $0.train, trainLoss: 2.3,
                                                                    testAccuracy: $0.test, testLoss: 2.3) },
                         diverged: diverged, divergenceStep: diverged ? 3 : nil, divergenceLoss: diverged ? 5e4 : nil)
        }
        let flat = [(50, 0.1, 0.1, 0.1), (100, 0.1, 0.1, 0.1), (150, 0.1, 0.1, 0.1), (200, 0.1, 0.105, 0.1)]
            .map { (step: $0.0, lr: $0.1, train: $0.2, test: $0.3) }
        let learning = Array(flat.dropLast()) + [(step: 200, lr: 0.1, train: 0.25, test: 0.24)]
        let id = "fig1.nobn-large-rate-fails"
        func claim(_ probes: [TrainMetrics], drawn: [TrainMetrics] = []) -> [String: Claim.Verdict] {
            let runs: [Fig1Accuracy.Configuration: [TrainMetrics]] = drawn.isEmpty ? [:] : [.init(bn: false, lr: 0.1): drawn]
            return Dictionary(uniqueKeysWithValues: Fig1Accuracy.largeRateClaims(runs: runs, probes: probes, large: 0.1, source: "")
                .map { ($0.id, $0.verdict) })
        }
        XCTAssertEqual(claim([run(depth: 110, seed: 0, diverged: true, windows: []), run(depth: 110, seed: 1, diverged: false, windows: flat)])[id], .holds)
        XCTAssertEqual(claim([run(depth: 110, seed: 0, diverged: true, windows: []), run(depth: 110, seed: 1, diverged: false, windows: learning)])[id],
                       .fails, "one seed that learns is enough to fail")
        XCTAssertNil(claim([])[id], "no probe, no claim")

        // The drawn net: 11 % before the drop (at 0.1), whatever it reaches after it.
        let rescued = [(50, 0.1, 0.1, 0.11), (100, 0.1, 0.11, 0.11), (150, 0.01, 0.5, 0.5), (200, 0.001, 0.6, 0.6)]
            .map { (step: $0.0, lr: $0.1, train: $0.2, test: $0.3) }
        let before = "fig1.nobn-large-rate-before-drop"
        let drawn = [run(depth: 20, seed: 0, diverged: false, windows: rescued), run(depth: 20, seed: 1, diverged: false, windows: rescued)]
        XCTAssertEqual(claim([], drawn: drawn)[before], .holds)
        let trains = rescued.map { (step: $0.step, lr: $0.lr, train: $0.train, test: $0.lr == 0.1 ? 0.3 : $0.test) }
        XCTAssertEqual(claim([], drawn: [run(depth: 20, seed: 0, diverged: false, windows: trains)])[before], .fails)
    }

    func testFig1CaptionStatesTheBudget() {
        var m = TrainMetrics(normalization: .batchNorm, learningRate: 0.1, depth: 20, seed: 0, epochs: 10, trainImages: 10_000,
                             testImages: 2_000, stepsPerEpoch: 78, totalSteps: 780, evaluations: [], diverged: false,
                             divergenceStep: nil, divergenceLoss: nil)
        var other = m
        other.seed = 1
        XCTAssertEqual(Fig1Accuracy.caption(lines: [[m, other]], drops: [[0.5, 0.75]]),
                       "ResNet-20 on 10000 train / 2000 test images (subsets), 10 epochs, lr ÷10 at 50 % and 75 %; 2 seeds, mean ± std; "
                       + "0 of 2 runs at plateau")
        // With endpoints: the final test set and the plateau count.
        m.endpoint = TrainEndpoint(trainAccuracy: 0.97, trainImages: 10_000, plateauAccuracy: 0.95, testAccuracy: 0.8, testImages: 10_000)
        other.endpoint = TrainEndpoint(trainAccuracy: 0.90, trainImages: 10_000, plateauAccuracy: 0.95, testAccuracy: 0.7, testImages: 10_000)
        XCTAssertEqual(Fig1Accuracy.caption(lines: [[m, other]], drops: [[0.5, 0.75]]),
                       "ResNet-20 on 10000 train / 2000 test images (subsets; final on 10000), 10 epochs, lr ÷10 at 50 % and 75 %; "
                       + "2 seeds, mean ± std; 1 of 2 runs at plateau")
        // Lines with their own seed counts say the range.
        var third = other
        third.seed = 2
        var unnormalised = m
        unnormalised.normalization = .none
        XCTAssertTrue(Fig1Accuracy.caption(lines: [[m, other, third], [unnormalised]], drops: [[0.5, 0.75]]).contains("; 1–3 seeds per line, mean ± std;"))
        XCTAssertEqual(Fig1Accuracy.rateText(0.0001), "0.0001")
        XCTAssertEqual(Fig1Accuracy.rateText(0.1), "0.1")
    }
}
