import Foundation
@testable import NN
@testable import Pipeline
import XCTest
@testable import Experiments

/// The appendix experiments (issue 15) on small generated data: the stable-rate search and Fig. H, the
/// last-layer-only training and Fig. E, the conditioning of random products and the network Jacobian
/// (Fig. K).
final class AppendixStagesTests: XCTestCase {
    private var dir: URL!
    private var decode: StageInputs!
    override func setUpWithError() throws {
        dir = try ExperimentFixtures.temporaryDirectory("appendix")
        decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 128, test: 40), in: dir)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func run(_ name: String, _ kind: any StageKind, _ params: [(String, JSONValue)], inputs: [StageInputs]? = nil) throws -> StageInputs {
        let ctx = try ExperimentFixtures.context(name, kind, params, inputs: inputs ?? [decode], in: dir)
        try kind.run(ctx)
        return try ExperimentFixtures.outputs(of: ctx, kind: kind.name)
    }

    private func render(_ figure: String, _ inputs: [StageInputs]) throws -> [Claim] {
        let stage = FigureStage(recipes: ExperimentKinds.figureRecipes)
        let ctx = try ExperimentFixtures.context(figure, stage, [("figure", .string(figure))], inputs: inputs, in: dir)
        try stage.run(ctx)
        let pngs = try FileManager.default.contentsOfDirectory(atPath: ctx.outputDirectory.path).filter { $0.hasSuffix(".png") }
        XCTAssertEqual(pngs.count, 1, figure)
        return try ClaimsFile.read(from: ctx.output(ClaimsFile.fileName)).claims
    }

    private func search(_ normalization: String, depth: Int, grid: [Double]) throws -> StageInputs {
        try run("search-\(normalization)-\(depth)", MaxStableLRStage(), [
            ("depth", .number(Double(depth))), ("batchSize", 32), ("normalization", .string(normalization)),
            ("grid", .array(grid.map { .number($0) })), ("seeds", [0]), ("epochs", 1), ("trainPerClass", 12),
            ("minTrainAccuracy", 0), ("factor", 3),
        ])
    }

    func testStableRateSearchBracketsAndFigureHClaimsTheTrend() throws {
        // A huge rate diverges at once, a small one trains (the accuracy bar is 0 here): the search
        // brackets between them and bisects down to the factor.
        let none8 = try search("none", depth: 8, grid: [0.01, 1e4])
        let result = try ExperimentFixtures.readResult(MaxStableLRStage.self, none8)
        let stable = try XCTUnwrap(result.largestStableLr), failing = try XCTUnwrap(result.smallestFailingLr)
        XCTAssertLessThanOrEqual(failing / stable, 3)
        XCTAssertTrue(result.trials.contains { $0.lr == 1e4 && $0.diverged })
        let none14 = try search("none", depth: 14, grid: [0.01, 1e4])
        let bn8 = try search("batchNorm", depth: 8, grid: [0.01, 1.0])
        let claims = try render("appH", [none8, none14, bn8])
        XCTAssertEqual(Set(claims.map(\.id)), ["apph.nobn-rate-falls-with-depth", "apph.bn-allows-larger-rates"])
    }

    func testLastLayerOnlyTrainsAtItsSearchedRateAndFigureEPlacesIt() throws {
        let lastSearch = try search("lastLayerOnly", depth: 8, grid: [0.01, 0.1])
        let noneSearch = try search("none", depth: 8, grid: [0.001, 1e4])
        let common: [(String, JSONValue)] = [("depth", 8), ("batchSize", 16), ("epochs", 1), ("trainPerClass", 8)]
        let searched = try run("train-searched", TrainStage(), common + [("bn", .bool(false)), ("normalization", "lastLayerOnly"), ("lr", "searched")],
                               inputs: [decode, lastSearch])
        let metrics = try ExperimentFixtures.readResult(TrainStage.self, searched)
        XCTAssertEqual(metrics.normalization, .lastLayerOnly)
        XCTAssertEqual(metrics.learningRate, try ExperimentFixtures.readResult(MaxStableLRStage.self, lastSearch).largestStableLr)

        // App. E's protocol: each net over its rates, each rate chosen on images no run trained on.
        var runs: [StageInputs] = []
        for (name, params) in [("bn", [("bn", JSONValue.bool(true)), ("lr", .number(0.05))]),
                               ("none", [("bn", .bool(false)), ("lr", .number(0.01))]),
                               ("last-0.01", [("bn", .bool(false)), ("normalization", "lastLayerOnly"), ("lr", .number(0.01))]),
                               ("last-0.3", [("bn", .bool(false)), ("normalization", "lastLayerOnly"), ("lr", .number(0.3))])] {
            runs.append(try run("train-\(name)", TrainStage(), common + params))
        }
        let choices = try ["batchNorm", "none", "lastLayerOnly"].map { net in
            try run("choice-\(net)", RateChoiceStage(), [("normalization", .string(net)), ("validationPerClass", 4)], inputs: [decode] + runs)
        }
        let last = try ExperimentFixtures.readResult(RateChoiceStage.self, choices[2])
        XCTAssertEqual(last.rates.map(\.learningRate), [0.01, 0.3])
        XCTAssertEqual(last.validationImages, 40)
        let claims = try render("appE", runs + choices + [noneSearch])
        XCTAssertEqual(claims.map(\.id), ["appe.trains-where-nobn-fails", "appe.between"])
        XCTAssertTrue(claims[0].ours.contains("lr \(String(format: "%.3g", try XCTUnwrap(last.chosen).learningRate))"), claims[0].ours)
        // One epoch reaches no plateau: "between" compares speeds then, and decides nothing (Fig. 1's rule).
        XCTAssertEqual(claims.last?.verdict, .inconclusive)
        XCTAssertTrue(claims.last?.note?.contains("not at plateau") ?? false, claims.last?.note ?? "no note")
        XCTAssertTrue(claims.last?.note?.contains("validation") ?? false, claims.last?.note ?? "no note")
    }

    func testTrainRejectsLastLayerOnlyWithBNAndASearchOfAnotherDepth() throws {
        let kind = TrainStage()
        XCTAssertThrowsError(try kind.validate(stage: "t", params: JSONObject([("bn", true), ("normalization", "lastLayerOnly"), ("lr", 0.1)]),
                                               dependencyKinds: [])) { error in
            XCTAssertTrue("\(error)".contains("normalization"), "\(error)")
        }
        let deeper = try search("lastLayerOnly", depth: 14, grid: [0.01, 0.1])
        let ctx = try ExperimentFixtures.context("mismatch", kind, [("depth", 8), ("batchSize", 32), ("epochs", 1), ("bn", .bool(false)),
                                                                    ("normalization", "lastLayerOnly"), ("lr", "searched")],
                                                 inputs: [decode, deeper], in: dir)
        XCTAssertThrowsError(try kind.run(ctx)) { error in XCTAssertTrue("\(error)".contains("depth 14"), "\(error)") }
    }

    func testConditioningGrowsWithFactorsAndFigureKRenders() throws {
        let product = try run("conditioning", ProductConditioningStage(), [
            ("size", 30), ("factors", [1, 2, 3, 6, 10, 15]), ("repeats", 3), ("block", 4), ("directCheck", 3),
        ], inputs: [])
        let result = try ExperimentFixtures.readResult(ProductConditioningStage.self, product)
        XCTAssertTrue(result.allConverged)
        XCTAssertLessThan(try XCTUnwrap(result.directCheckError), 1e-6, "the iteration agrees with the SVD of the formed product")
        XCTAssertEqual(result.rows.map(\.factors), [1, 2, 3, 6, 10, 15])
        XCTAssertEqual(result.rows[0].logConditionNumber.count, 3)
        // ½(ψ(15) − ψ(½)) for N = 30: ψ(15) = H₁₄ − γ, ψ(½) = −γ − 2 log 2.
        let harmonic = (1...14).reduce(0.0) { $0 + 1 / Double($1) }
        XCTAssertEqual(result.theorySlope, 0.5 * (harmonic + 2 * log(2.0)), accuracy: 1e-9)
        let jacobian = try run("jacobian", JacobianSpectrumStage(), [("depths", [14, 8]), ("seeds", [0, 1]), ("images", 4), ("batchSize", 16)])
        let j = try ExperimentFixtures.readResult(JacobianSpectrumStage.self, jacobian)
        XCTAssertEqual(j.rows.map(\.depth), [8, 14])
        XCTAssertEqual(j.rows[0].largest.map(\.count), [4, 4])
        let claims = try render("appK", [product, jacobian])
        XCTAssertEqual(Set(claims.map(\.id)), ["appk.condition-grows", "appk.condition-linear", "appk.smallest-falls", "appk.jacobian-grows"])
        XCTAssertEqual(claims.first { $0.id == "appk.condition-grows" }?.verdict, .holds)
    }

    /// The Jacobian rows the seeded backward passes give, against finite differences: shifting the
    /// first conv's bias of channel k by δ shifts every position of that channel of z, so logit c moves by
    /// δ·Σ_positions ∂logit_c/∂z[k, ·, ·].
    func testSeededBackwardGivesTheJacobianOfTheLogits() throws {
        let model = try ResNet(config: try NetworkSetup(preprocessing: .pixelMean, initialization: .xavierNormal, linearInitialization: .xavierNormal,
                                                        shortcut: .optionB, convBias: true).config(depth: 8, normalization: .none), seed: 4)
        let data = try ExperimentFixtures.learnableData(train: 16, test: 4)
        let per = 3 * 32 * 32, b = 2
        let images = (0..<(b * per)).map { Float(data.train.images[$0]) / 255 - 0.5 }, labels: [Int32] = [1, 7]
        try model.forward(images: images, labels: labels)
        let classes = model.config.classes
        let base = try model.logits().data
        let parameters = model.parameterVector()
        let biasName = TensorName(.conv(1), .bias)
        let biasOffset = model.layout.offset(biasName)
        XCTAssertGreaterThanOrEqual(biasOffset, 0, "no \(biasName)")
        let lossGradients = try model.logitGradients().data
        for c in [0, 6] {
            var seed = [Float](repeating: 0, count: b * classes)
            for i in 0..<b { seed[i * classes + c] = 1 }
            let g = try XCTUnwrap(try model.backward(logitGradients: seed, captureOutputGradients: [1])[1])
            XCTAssertEqual(try model.logitGradients().data, lossGradients, "a seeded backward leaves the loss's logit gradients alone")
            for k in [0, 9] {
                let delta: Float = 1e-2
                var shifted = parameters
                shifted[biasOffset + k] += delta
                try model.setParameters(shifted)
                try model.forward(images: images, labels: labels)
                let up = try model.logits().data
                shifted[biasOffset + k] -= 2 * delta
                try model.setParameters(shifted)
                try model.forward(images: images, labels: labels)
                let down = try model.logits().data
                try model.setParameters(parameters)
                for i in 0..<b {
                    let fd = Double(up[i * classes + c] - down[i * classes + c]) / Double(2 * delta)
                    let hw = 32 * 32, start = (i * 16 + k) * hw
                    let analytic = g.data[start..<(start + hw)].reduce(0.0) { $0 + Double($1) }
                    XCTAssertEqual(fd, analytic, accuracy: 2e-2 * max(1, abs(analytic)), "class \(c), channel \(k), image \(i)")
                }
            }
            try model.forward(images: images, labels: labels)
        }
        XCTAssertEqual(try model.logits().data, base, "the parameters were restored")
    }
}

extension ExperimentFixtures {
    /// The typed result a finished stage wrote.
    static func readResult<K: AnalysisKind>(_ kind: K.Type, _ outputs: StageInputs) throws -> K.Result {
        try ResultJSON.read(K.Result.self, from: try XCTUnwrap(outputs.files[K.resultFile], "no \(K.resultFile)"))
    }
}
