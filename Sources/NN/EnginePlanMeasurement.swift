import Foundation
import Tensor

/// The measurements behind a new engine plan's global choices: which activation layout trains faster
/// here, and who computes the conv biases' gradient.
public enum EnginePlanMeasurement {
    /// Seconds of one training step's three passes (forward, backward-data, backward-weights) of a
    /// representative convolution (32→32 channels, 16×16, batch 64) in each layout, activation staging
    /// included, with oneDNN's first implementation. Leaves the process's block as it found it.
    public static func layoutSeconds() throws -> [Int: Double] {
        let before = Blocked.block
        defer { Blocked.use(block: before) }
        let context = try DNNLContext()
        var seconds: [Int: Double] = [:]
        for block in [16, 8] {
            Blocked.use(block: block)
            let conv = try ConvPrimitives(context: context, batch: 64, inChannels: 32, outChannels: 32, inputSize: 16, stride: 1,
                                          hasBias: false, plainInput: false, needsDataGradient: true)
            let activations = 64 * 32 * 16 * 16
            let x = buffer(activations), y = buffer(activations), g = buffer(activations), dx = buffer(activations)
            let w = buffer(32 * 32 * 9), dw = buffer(32 * 32 * 9), scratch = buffer(max(conv.scratchCount, 16))
            defer { [x, y, g, dx, w, dw, scratch].forEach { $0.deallocate() } }
            func step() throws {
                try conv.runForward(src: x, weights: w, bias: nil, dst: y, scratch: scratch)
                try conv.runBackwardData(diffDst: g, weights: w, diffSrc: dx, scratch: scratch)
                try conv.runBackwardWeights(src: x, diffDst: g, diffWeights: dw, diffBias: nil, scratch: scratch)
            }
            seconds[block] = try bestSecondsPerStep(step, context: context)
        }
        return seconds
    }

    /// The block a new plan takes: 16 (the engine's layout before plans) unless 8 is at least 5 % faster.
    public static func chooseBlock(_ seconds: [Int: Double]) -> Int {
        guard let s16 = seconds[16], let s8 = seconds[8] else { return 16 }
        return s8 < 0.95 * s16 ? 8 : 16
    }

    /// Seconds of a no-BN layer's backward step around its conv bias, summed over the three CIFAR stage
    /// shapes (16 channels at 32×32, 32 at 16×16, 64 at 8×8; batch 128, in `block`): the ReLU's backward
    /// pass and the backward-weights pass, with the bias's gradient computed by each side. Leaves the
    /// process's block as it found it.
    public static func biasGradientSeconds(block: Int) throws -> [EnginePlan.BiasGradient: Double] {
        let before = Blocked.block
        defer { Blocked.use(block: before) }
        Blocked.use(block: block)
        let context = try DNNLContext()
        var seconds: [EnginePlan.BiasGradient: Double] = [:]
        for (C, size) in [(16, 32), (32, 16), (64, 8)] {
            for side in [EnginePlan.BiasGradient.oneDNN, .engine] {
                seconds[side, default: 0] += try biasGradientStepSeconds(side, batch: 128, channels: C, size: size, context: context)
            }
        }
        return seconds
    }

    private static func biasGradientStepSeconds(_ side: EnginePlan.BiasGradient, batch B: Int, channels C: Int, size: Int,
                                                context: DNNLContext) throws -> Double {
        let conv = try ConvPrimitives(context: context, batch: B, inChannels: C, outChannels: C, inputSize: size, stride: 1,
                                      hasBias: true, plainInput: false, needsDataGradient: false,
                                      biasGradientByCaller: side == .engine)
        let activations = B * C * size * size
        let x = buffer(activations), y = buffer(activations), g = buffer(activations)
        let dw = buffer(C * C * 9), db = buffer(C), scratch = buffer(max(conv.scratchCount, 16))
        defer { [x, y, g, dw, db, scratch].forEach { $0.deallocate() } }
        func step() throws {
            if side == .engine {
                Blocked.reluMaskChannelSums(g, y, sums: db, B: B, C: C, HW: size * size)
            } else {
                Blocked.reluMask(g, y, count: activations)
            }
            try conv.runBackwardWeights(src: x, diffDst: g, diffWeights: dw, diffBias: db, scratch: scratch)
        }
        return try bestSecondsPerStep(step, context: context)
    }

    /// Who computes a conv bias's gradient in a new plan: oneDNN (as before plans had the choice) unless the
    /// engine is at least 5 % faster.
    public static func chooseBiasGradient(_ seconds: [EnginePlan.BiasGradient: Double]) -> EnginePlan.BiasGradient {
        guard let library = seconds[.oneDNN], let engine = seconds[.engine] else { return .oneDNN }
        return engine < 0.95 * library ? .engine : .oneDNN
    }

    /// Seconds per call of `step`: one untimed call, then the best of three rounds of four.
    private static func bestSecondsPerStep(_ step: () throws -> Void, context: DNNLContext) throws -> Double {
        try step()
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<4 { try step() }
            try context.wait()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 4e9)
        }
        return best
    }

    private static func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = Float(i % 13) * 0.01 - 0.06 }
        return p
    }
}
