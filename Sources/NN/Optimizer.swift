import Tensor

/// SGD with momentum and L2 weight decay, PyTorch's formulation (no dampening, not Nesterov):
///   g ← ∇ + λ·θ;  v ← μ·v + g;  θ ← θ − lr·v.
/// Weight decay applies to every parameter (weights, biases, γ, β), as in He et al.'s Torch code.
public struct SGD: Sendable {
    public var momentum: Float
    public var weightDecay: Float
    public private(set) var velocity: [Float]

    public init(parameterCount: Int, momentum: Float = 0.9, weightDecay: Float = 1e-4) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = [Float](repeating: 0, count: parameterCount)
    }

    /// Resumes an optimiser from saved state (a training run restarted from its checkpoint).
    public init(momentum: Float, weightDecay: Float, velocity: [Float]) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.velocity = velocity
    }

    public mutating func step(_ parameters: FloatBuffer, _ gradients: FloatBuffer, learningRate lr: Float) {
        let p = parameters.pointer, g = gradients.pointer
        let mu = momentum, wd = weightDecay
        velocity.withUnsafeMutableBufferPointer { vb in
            guard let v = vb.baseAddress else { return }
            parallelChunks(parameters.count, threads: memoryBoundLoopThreads()) { r in
                for i in r {
                    let d = g[i] + wd * p[i]
                    v[i] = mu * v[i] + d
                    p[i] -= lr * v[i]
                }
            }
        }
    }
}

/// Learning rate as a function of progress: a base rate, multiplied by `factor` at each drop (given as a
/// fraction of the total steps), with an optional constant warm-up rate for the first steps
/// (He et al. use 0.01 for ResNet-110's first ~400 iterations).
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public struct Drop: Codable, Equatable, Sendable {
        public var atFraction: Double
        public var factor: Float
        public init(atFraction: Double, factor: Float = 0.1) { self.atFraction = atFraction; self.factor = factor }
    }
    public var base: Float
    public var drops: [Drop]
    public var warmupSteps: Int
    public var warmupRate: Float

    public init(base: Float, drops: [Drop] = [Drop(atFraction: 0.5), Drop(atFraction: 0.75)],
                warmupSteps: Int = 0, warmupRate: Float = 0.01) {
        self.base = base; self.drops = drops; self.warmupSteps = warmupSteps; self.warmupRate = warmupRate
    }

    public func rate(step: Int, totalSteps: Int) -> Float {
        if step < warmupSteps { return warmupRate }
        var lr = base
        let progress = Double(step) / Double(max(totalSteps, 1))
        for d in drops where progress >= d.atFraction { lr *= d.factor }
        return lr
    }
}
