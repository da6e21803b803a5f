import XCTest
import Tensor
@testable import NN

struct SyntheticBatch: MiniBatch {
    var images: [Float]
    var labels: [Int32]
}

/// A learnable synthetic task: the class decides the image's colour pattern (a per-class RGB mean over
/// the left and right halves), plus noise.
func syntheticBatch(size B: Int, imageSize H: Int, seed: UInt64) -> SyntheticBatch {
    let rng = Philox(seed: seed)
    let labels = rng.substream(0).uniform(count: B).map { Int32(min(9, Int($0 * 10))) }
    var images = rng.substream(1).normal(count: B * 3 * H * H, std: 0.5)
    for b in 0..<B {
        let k = Int(labels[b])
        for c in 0..<3 { for y in 0..<H { for x in 0..<H {
            let left = x < H / 2
            let v: Float = ((k >> c) & 1 == 1 ? 1 : -1) * (left ? 1 : (k >= 5 ? -1 : 1))
            images[((b * 3 + c) * H + y) * H + x] += v
        } } }
    }
    return SyntheticBatch(images: images, labels: labels)
}

final class TrainingTests: XCTestCase {
    func testBatchNormNetLearnsSyntheticTask() throws {
        let config = try ResNetConfig(depth: 8, normalization: .batchNorm, imageSize: 8)
        let model = try ResNet(config: config, seed: 1)
        let test = syntheticBatch(size: 200, imageSize: 8, seed: 999)
        let before = try model.evaluate(images: test.images, labels: test.labels, batchSize: 32)
        var trainer = Trainer(model: model, schedule: LearningRateSchedule(base: 0.05, drops: [LearningRateSchedule.Drop(atFraction: 0.8)]))
        var losses: [Double] = []
        let outcome = try trainer.train(totalSteps: 60, next: { syntheticBatch(size: 32, imageSize: 8, seed: UInt64($0)) },
                                        onStep: { _, l in losses.append(l) })
        let after = try model.evaluate(images: test.images, labels: test.labels, batchSize: 32)
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(5).reduce(0, +) / 5
        print("TRAINING OK: loss \(early) → \(late); test accuracy \(before.accuracy) → \(after.accuracy), test loss \(before.meanLoss) → \(after.meanLoss)")
        guard case .completed(let steps, _) = outcome else { return XCTFail("unexpected \(outcome)") }
        XCTAssertEqual(steps, 60)
        XCTAssertLessThan(late, 0.5 * early)
        XCTAssertGreaterThan(after.accuracy, 0.8)
        XCTAssertLessThan(after.meanLoss, before.meanLoss)
    }

    func testUnnormalisedNetWithLargeStepDivergesAndReportsTheStep() throws {
        let config = try ResNetConfig(depth: 8, normalization: .none, imageSize: 8)
        let model = try ResNet(config: config, seed: 1)
        var trainer = Trainer(model: model, schedule: LearningRateSchedule(base: 5, drops: []))
        let outcome = try trainer.train(totalSteps: 50, next: { syntheticBatch(size: 16, imageSize: 8, seed: UInt64($0)) })
        print("DIVERGENCE OK: \(outcome)")
        guard case .diverged(let step, let loss) = outcome else { return XCTFail("expected divergence, got \(outcome)") }
        XCTAssertGreaterThan(step, 0)
        XCTAssertLessThan(step, 50)
        XCTAssertTrue(!loss.isFinite || loss > 1e3)
        XCTAssertEqual(trainer.step, step, "the divergent step's update is not applied")
    }

    func testLearningRateSchedule() {
        let s = LearningRateSchedule(base: 0.1, warmupSteps: 10, warmupRate: 0.01)
        XCTAssertEqual(s.rate(step: 0, totalSteps: 100), 0.01)
        XCTAssertEqual(s.rate(step: 10, totalSteps: 100), 0.1)
        XCTAssertEqual(s.rate(step: 50, totalSteps: 100), 0.01, accuracy: 1e-9)
        XCTAssertEqual(s.rate(step: 75, totalSteps: 100), 0.001, accuracy: 1e-9)
    }

    func testSGDMatchesFormula() {
        var sgd = SGD(parameterCount: 2, momentum: 0.9, weightDecay: 0.1)
        let p = FloatBuffer([1, -2]), g = FloatBuffer([0.5, 0.25])
        sgd.step(p, g, learningRate: 0.1)   // v = g + 0.1 p = [0.6, 0.05]
        XCTAssertEqual(p.array[0], 1 - 0.06, accuracy: 1e-6)
        XCTAssertEqual(p.array[1], -2 - 0.005, accuracy: 1e-6)
        sgd.step(p, g, learningRate: 0.1)   // v = 0.9 v + g + 0.1 p
        let v0: Float = 0.9 * 0.6 + 0.5 + 0.1 * 0.94
        XCTAssertEqual(p.array[0], 0.94 - 0.1 * v0, accuracy: 1e-6)
    }
}
