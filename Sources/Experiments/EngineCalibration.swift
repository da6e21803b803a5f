import Foundation
import NN
import Tensor

/// Seconds per image-layer on this machine, from three training steps of a ResNet-20 with BN on a batch
/// of 128 random images, after one warm-up step, with the given OpenMP threads: one by default, what
/// each stage gets with `-j` = cores.
public enum EngineCalibration {
    public static func secondsPerImageLayer(threads: Int = 1) throws -> Double {
        // As a worker computes with `threads`: with this machine's engine plan, the one for every thread count.
        try withOpenMPThreads(threads) {
            try EnginePlanSetup.installMachinePlan()
            return try measure()
        }
    }

    static func measure() throws -> Double {
        let batch = 128, depth = 20
        let model = try ResNet(config: try ResNetConfig(depth: depth, normalization: .batchNorm), seed: 0)
        let images = Philox(seed: 1).normal(count: batch * 3 * 32 * 32)
        let labels = (0..<batch).map { Int32($0 % 10) }
        var trainer = Trainer(model: model, schedule: LearningRateSchedule(base: 0.01, drops: []), momentum: 0.9, weightDecay: 1e-4)
        let batchData = RandomBatch(images: images, labels: labels)
        _ = try trainer.trainStep(batchData, totalSteps: 100)
        let started = ProcessInfo.processInfo.systemUptime
        for _ in 0..<3 { _ = try trainer.trainStep(batchData, totalSteps: 100) }
        let seconds = ProcessInfo.processInfo.systemUptime - started
        return seconds / Double(3 * batch * depth * 3)
    }
}

private struct RandomBatch: MiniBatch {
    let images: [Float]
    let labels: [Int32]
}
