import Datasets
import Foundation
import NN
@testable import Experiments
@testable import Pipeline
import XCTest

/// `first-steps` and the calibration's training term on a depth-8 network and tiny learnable data.
final class FirstStepsStageTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("first-steps") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func context(_ params: [(String, JSONValue)]) throws -> StageContext {
        let decode = try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 160, test: 20), in: dir)
        return try ExperimentFixtures.context("first-steps", FirstStepsStage(), [("depth", 8), ("batchSize", 16)] + params,
                                              inputs: [decode], in: dir)
    }

    func testDiagnosticsDecomposeTheGradientAndMeasureEveryLayer() throws {
        let ctx = try context([("steps", 3), ("lrNoBN", 0.01)])
        try FirstStepsStage().run(ctx)
        let result = try ResultJSON.read(FirstStepsResult.self, from: ctx.output(FirstStepsStage.resultFile))
        XCTAssertEqual(result.runs.map(\.normalization), [.batchNorm, .none])
        for run in result.runs {
            XCTAssertEqual(run.steps.map(\.miniBatch), [1, 2, 3])
            for d in run.steps {
                // The parts and the kinds each split the whole gradient.
                let byGroup = d.gradientNormByGroup.reduce(0) { $0 + $1 * $1 }, byKind = d.gradientNormByKind.reduce(0) { $0 + $1 * $1 }
                XCTAssertEqual(byGroup.squareRoot(), d.gradientNorm, accuracy: 1e-9 * max(1, d.gradientNorm))
                XCTAssertEqual(byKind.squareRoot(), d.gradientNorm, accuracy: 1e-9 * max(1, d.gradientNorm))
                XCTAssertGreaterThan(d.gradientNorm, 0)
                XCTAssertEqual(d.positiveFraction.count, 4)
                XCTAssertEqual(d.positiveFractionByLayer.count, 7)
                XCTAssertTrue(d.positiveFraction.allSatisfy { $0 > 0 && $0 < 1 }, "\(d.positiveFraction)")
                XCTAssertEqual(d.updateRatioByLayer?.count, 8)
                XCTAssertTrue((d.updateRatioByLayer ?? []).allSatisfy { $0 > 0 && $0.isFinite })
                XCTAssertGreaterThan(d.logitSpread, 0)
            }
            // Without BN there is no BN parameter and every conv has a bias; with BN, the reverse.
            let kinds = ParameterKind.allCases
            let last = run.steps[0]
            XCTAssertEqual(last.gradientNormByKind[kinds.firstIndex(of: .batchNorm)!] > 0, run.normalization == .batchNorm)
            XCTAssertEqual(last.gradientNormByKind[kinds.firstIndex(of: .convBiases)!] > 0, run.normalization == .none)
        }
        let csv = try String(contentsOf: ctx.output("first-steps.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 6)
    }

    func testOnlyTheNetworksAskedFor() throws {
        let ctx = try context([("steps", 2), ("normalizations", ["none"])])
        try FirstStepsStage().run(ctx)
        let result = try ResultJSON.read(FirstStepsResult.self, from: ctx.output(FirstStepsStage.resultFile))
        XCTAssertEqual(result.runs.map(\.normalization), [.none])
        let bad = try context([("normalizations", ["lastLayerOnly"])])
        XCTAssertThrowsError(try FirstStepsStage().run(bad)) { XCTAssertTrue("\($0)".contains("normalizations"), "\($0)") }
    }

    /// The probes move θ along the gradient and back: training with them ends where training without them does.
    func testTrainingTermProbesLeaveTheTrainingUntouched() throws {
        let ctx = try context([])
        let batches = try AnalysisSetup.firstBatches(ctx, try ctx.params(NetworkParams.self), count: 7)
        let config = try ResNetConfig(depth: 8, normalization: .none)
        let probed = try ResNet(config: config, seed: 3), plain = try ResNet(config: config, seed: 3)
        let t = try CalibrationTraining(probed, batches: batches, probes: [4, 7], learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)
        _ = try FirstStepsStage.diagnose(plain, batches: batches, learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)
        XCTAssertEqual(probed.parameterVector(), plain.parameterVector())
        XCTAssertEqual(t.miniBatches, [4, 7])
        XCTAssertEqual(t.gradientNorms.count, 2)
        for s in t.explosionSteps.compactMap({ $0 }) { XCTAssertTrue(CalibrationTraining.grid.contains(s)) }
        XCTAssertTrue(t.term.isFinite)
    }

    /// Claim 4 of issue 21 at quick: a net whose logits' spread across images falls by more than a decade collapsed.
    func testTheCollapseClaimBothWays() {
        func step(_ k: Int, spread: Double) -> StepDiagnostics {
            StepDiagnostics(miniBatch: k, loss: 2.3, logitRMS: 1, logitSpread: spread, gradientNorm: 1, gradientNormByGroup: [],
                            gradientNormByKind: [], positiveFraction: [], positiveFractionByLayer: [], updateRatioByLayer: nil)
        }
        func verdict(_ spreads: [Double]) -> Claim.Verdict? {
            let run = FirstStepsRun(normalization: .none, learningRate: 1e-4, steps: spreads.enumerated().map { step($0.offset + 1, spread: $0.element) })
            return FirstStepsStage.claims(FirstStepsResult(depth: 110, seed: 0, batchSize: 128, setup: "", runs: [run])).first?.verdict
        }
        XCTAssertEqual(verdict([8.6, 0.72, 0.29, 0.19, 0.17, 0.15, 0.14]), .fails)
        XCTAssertEqual(verdict([8.6, 6.0, 5.0, 4.0]), .holds)
        XCTAssertNil(verdict([8.6]), "one step shows no trend")
    }

    func testTrainingTermReadsThePapersExplosionSteps() {
        XCTAssertEqual(CalibrationTraining.term(miniBatches: [4, 7], explosionSteps: [4e-3, 6e-3]), 0, accuracy: 1e-12)
        XCTAssertEqual(CalibrationTraining.term(miniBatches: [4, 7], explosionSteps: [4e-2, 6e-4]), 1, accuracy: 1e-12)
        // A net that never explodes on the grid counts as a quarter decade beyond 1.
        let never = CalibrationTraining.term(miniBatches: [4, 7], explosionSteps: [nil, nil])
        XCTAssertEqual(never, (log10(pow(10, 0.25) / 4e-3) + log10(pow(10, 0.25) / 6e-3)) / 2, accuracy: 1e-12)
    }
}
