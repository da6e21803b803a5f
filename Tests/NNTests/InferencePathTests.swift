import XCTest
import Tensor
@testable import NN

/// The fused inference path (`inferenceForward`: BN folded into the convs, ReLU and residual add as oneDNN
/// post-ops) against the stored evaluation path (`forward(mode: .inference)`), which the fast-vs-reference
/// tests check layer by layer: same logits, per-sample losses and mean loss up to float32 rounding.
final class InferencePathTests: XCTestCase {
    /// A model a few steps into training, so that weights, biases, γ, β and running statistics are all
    /// away from their initial values (the running statistics then fold into non-trivial scales and shifts).
    func trainedModel(_ config: ResNetConfig, batch: Int, seed: UInt64) throws -> ResNet {
        let m = try ResNet(config: config, seed: seed)
        var t = Trainer(model: m, schedule: LearningRateSchedule(base: config.convBatchNorm ? 0.05 : 0.01))
        for step in 0..<3 {
            try t.trainStep(syntheticBatch(size: batch, imageSize: config.imageSize, seed: seed + UInt64(step)), totalSteps: 3)
        }
        return m
    }

    /// Largest |fast − stored| over logits relative to the largest |logit|, and over the mean loss.
    func compare(_ m: ResNet, _ batch: SyntheticBatch, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let stored = try m.forward(images: batch.images, labels: batch.labels, mode: .inference)
        let storedLogits = try m.logits().data.map(Double.init), storedLosses = try m.perSampleLosses().map(Double.init)
        let fast = try m.inferenceForward(images: batch.images, labels: batch.labels)
        let fastLogits = try m.logits().data.map(Double.init), fastLosses = try m.perSampleLosses().map(Double.init)
        let logitDiff = maxAbsDiff(fastLogits, storedLogits) / max(maxAbs(storedLogits), 1)
        let lossDiff = maxAbsDiff(fastLosses, storedLosses) / max(maxAbs(storedLosses), 1)
        print("TENSOR OK \(what) inference fused vs stored: logits maxdiff = \(logitDiff), losses = \(lossDiff), loss \(fast) vs \(stored)")
        XCTAssertLessThan(logitDiff, 2e-5, what, file: file, line: line)
        XCTAssertLessThan(lossDiff, 2e-5, what, file: file, line: line)
        XCTAssertEqual(fast, stored, accuracy: 2e-5 * max(abs(stored), 1), what, file: file, line: line)
    }

    func testFusedInferenceMatchesStoredPathForEveryNormalizationAndShortcut() throws {
        for norm in [Normalization.batchNorm, .none, .lastLayerOnly] {
            for shortcut in [Shortcut.optionA, .optionASplit, .optionB] {
                let config = try ResNetConfig(depth: 14, normalization: norm, shortcut: shortcut, imageSize: 8)
                let m = try trainedModel(config, batch: 8, seed: 21)
                try compare(m, syntheticBatch(size: 8, imageSize: 8, seed: 99), "ResNet-14 \(norm) \(shortcut)")
            }
        }
    }

    /// The fused path in the layout oneDNN picks, with the residual epilogue's shortcut staged in (AVX2 machines).
    func testFusedInferenceInTheLibrarysLayout() throws {
        try withConvLayout("any") {
            for norm in [Normalization.batchNorm, .none] {
                let config = try ResNetConfig(depth: 14, normalization: norm, shortcut: .optionB, imageSize: 8)
                let m = try trainedModel(config, batch: 8, seed: 21)
                try compare(m, syntheticBatch(size: 8, imageSize: 8, seed: 99), "ResNet-14 \(norm) optionB, library layout")
            }
        }
    }

    /// CIFAR's shapes (32 px, 128 images would be slow here; 16 keep the blocked layout's full tiles), where
    /// oneDNN may pick other kernels than at 8 px.
    func testFusedInferenceMatchesStoredPathAtCIFARShapes() throws {
        for norm in [Normalization.batchNorm, .none] {
            let config = try ResNetConfig(depth: 20, normalization: norm)
            let m = try trainedModel(config, batch: 16, seed: 31)
            try compare(m, syntheticBatch(size: 16, imageSize: 32, seed: 98), "ResNet-20 \(norm) 32 px")
        }
    }

    /// BN in inference reads the running statistics, not the batch's: with arbitrary running statistics
    /// the two paths still agree, differ from a training-mode pass, and leave the statistics unchanged.
    func testFoldedBatchNormUsesRunningStatistics() throws {
        for shortcut in [Shortcut.optionA, .optionB] {
            let config = try ResNetConfig(depth: 8, normalization: .batchNorm, shortcut: shortcut, imageSize: 8)
            let m = try trainedModel(config, batch: 8, seed: 41)
            let rng = Philox(seed: 42)
            var stats = m.runningStatsVector()
            let noise = rng.normal(count: stats.count)
            for entry in config.runningStatsLayout.entries {
                let isVariance = entry.name.hasSuffix("running_var")
                for k in entry.range {
                    stats[k] = isVariance ? 0.5 + abs(noise[k]) : 0.3 * noise[k]
                }
            }
            try m.setRunningStats(stats)
            let batch = syntheticBatch(size: 8, imageSize: 8, seed: 43)
            try compare(m, batch, "ResNet-8 BN \(shortcut), random running statistics")
            let fast = try m.inferenceForward(images: batch.images, labels: batch.labels)
            XCTAssertEqual(m.runningStatsVector(), stats, "inference must not touch the running statistics")
            let training = try m.forward(images: batch.images, labels: batch.labels, mode: .training)
            XCTAssertGreaterThan(abs(fast - training), 1e-3, "inference must not normalise with batch statistics")
        }
    }

    func testFoldingMatchesBatchNormOfTheConvOutput() {
        // One output channel with a conv bias: BN(w·x + b) = (s·w)·x + b' for any x.
        let w: [Float] = [0.5, -1.25, 2], b: [Float] = [0.3], gamma: [Float] = [1.7], beta: [Float] = [-0.2]
        let mean: [Float] = [0.4], variance: [Float] = [2.5], x: [Float] = [1, -2, 0.5], eps: Float = 1e-5
        var fw = [Float](repeating: 0, count: 3), fb: [Float] = [0]
        InferencePlan.foldBatchNorm(&fw, &fb, w, b, gamma, beta, mean, variance, outChannels: 1, perChannel: 3, epsilon: eps)
        let conv = Double(zip(w, x).map { $0 * $1 }.reduce(0, +) + b[0])
        let bn = Double(gamma[0]) * (conv - Double(mean[0])) / (Double(variance[0]) + Double(eps)).squareRoot() + Double(beta[0])
        let folded = Double(zip(fw, x).map { $0 * $1 }.reduce(0, +) + fb[0])
        XCTAssertEqual(folded, bn, accuracy: 1e-6)
    }

    func testLayerProbesRefuseAfterInferenceForwardAndWorkAgainAfterForward() throws {
        let m = try ResNet(config: try ResNetConfig(depth: 8, normalization: .batchNorm, imageSize: 8), seed: 5)
        let batch = syntheticBatch(size: 4, imageSize: 8, seed: 6)
        try m.inferenceForward(images: batch.images, labels: batch.labels)
        XCTAssertEqual(try m.logits().shape, [4, 10])
        XCTAssertNoThrow(try m.channelMoments(layer: 8))  // the logits' moments are kept
        XCTAssertThrowsError(try m.channelMoments(layer: 3))
        XCTAssertThrowsError(try m.activation(layer: 3))
        XCTAssertThrowsError(try m.convInput(layer: 3))
        XCTAssertThrowsError(try m.backward())
        try m.forward(images: batch.images, labels: batch.labels, mode: .inference)
        XCTAssertNoThrow(try m.channelMoments(layer: 3))
    }

    func testEvaluateRunsTheFusedPathWithTheStoredPathsResults() throws {
        let config = try ResNetConfig(depth: 8, normalization: .batchNorm, imageSize: 8)
        let m = try trainedModel(config, batch: 8, seed: 51)
        let data = syntheticBatch(size: 12, imageSize: 8, seed: 52)
        let e = try m.evaluate(images: data.images, labels: data.labels, batchSize: 12)
        let loss = try m.forward(images: data.images, labels: data.labels, mode: .inference)
        XCTAssertEqual(e.meanLoss, loss, accuracy: 2e-5 * max(abs(loss), 1))
        XCTAssertEqual(e.accuracy, Double(try m.correctPredictions(labels: data.labels)) / 12)
    }
}
