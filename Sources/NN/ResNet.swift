import Tensor

/// Where in a conv layer the activation statistics are taken.
public enum ActivationPoint: String, Codable, Sendable {
    /// The convolution's output (bias included), before BN: the default, and what the paper's
    /// depth profile (Fig. 5) and diverging-update maps (Fig. 4) are read from here.
    case convOutput
    /// After BN (equal to `convOutput` in layers without BN). Computed exactly from the conv output's
    /// moments and the BN statistics and affine parameters, not stored.
    case normalized
    /// After the ReLU; for the second conv of a block, after the residual add and the ReLU (the block output).
    case postActivation
}

public enum Mode: Sendable {
    /// BN normalises with the batch's statistics (what training and the paper's analyses use).
    case training
    /// BN normalises with its running averages.
    case inference
}

/// A CIFAR ResNet with its parameters, gradients and BN running statistics in flat vectors (layouts:
/// `config.parameterLayout`, `config.runningStatsLayout`) and one arena per batch size.
/// A class because it owns oneDNN handles and buffers.
public final class ResNet {
    public let config: ResNetConfig
    public let layout: ParameterLayout
    public let statsLayout: ParameterLayout
    public let parameters: FloatBuffer
    public let gradients: FloatBuffer
    public let runningStats: FloatBuffer
    let storage: ModelStorage
    let context: DNNLContext
    private var plans: [Int: ResNetPlan] = [:]
    private(set) var current: ResNetPlan?
    private var lastMode: Mode = .training
    /// False after `inferenceForward`, which keeps only logits and losses.
    private(set) var layerActivationsStored = true
    private var profiling = false

    public convenience init(config: ResNetConfig, seed: UInt64) throws {
        try self.init(config: config, parameters: config.initialParameters(seed: seed),
                      runningStats: config.initialRunningStats())
    }

    public init(config: ResNetConfig, parameters p: [Float], runningStats r: [Float]) throws {
        self.config = config
        layout = config.parameterLayout
        statsLayout = config.runningStatsLayout
        guard p.count == layout.count, r.count == statsLayout.count else {
            throw ResNetError.badBatch("parameter vector has \(p.count) values (needs \(layout.count)), running stats \(r.count) (needs \(statsLayout.count))")
        }
        parameters = FloatBuffer(p)
        gradients = FloatBuffer(count: layout.count)
        runningStats = FloatBuffer(r)
        context = try DNNLContext()
        let params = OffsetLookup(layout), stats = OffsetLookup(statsLayout)
        var layers: [LayerOffsets] = []
        for spec in config.convLayers {
            let l = spec.layer
            layers.append(LayerOffsets(weight: params.offset(TensorName(.conv(l), .weight)), bias: params.offset(TensorName(.conv(l), .bias)),
                                       gamma: params.offset(TensorName(.bn(l), .weight)), beta: params.offset(TensorName(.bn(l), .bias)),
                                       runningMean: stats.offset(TensorName(.bn(l), .runningMean)),
                                       runningVariance: stats.offset(TensorName(.bn(l), .runningVariance))))
        }
        let fin = LayerOffsets(gamma: params.offset(TensorName(.finalBN, .weight)), beta: params.offset(TensorName(.finalBN, .bias)),
                               runningMean: stats.offset(TensorName(.finalBN, .runningMean)),
                               runningVariance: stats.offset(TensorName(.finalBN, .runningVariance)))
        var shortcuts: [Int: LayerOffsets] = [:]
        if config.shortcut == .optionB {
            for first in config.transitionBlocks {
                let l = first.layer + 1
                shortcuts[first.layer] = LayerOffsets(
                    weight: params.offset(TensorName(.shortcut(l), .weight)), bias: params.offset(TensorName(.shortcut(l), .bias)),
                    gamma: params.offset(TensorName(.shortcutBN(l), .weight)), beta: params.offset(TensorName(.shortcutBN(l), .bias)),
                    runningMean: stats.offset(TensorName(.shortcutBN(l), .runningMean)),
                    runningVariance: stats.offset(TensorName(.shortcutBN(l), .runningVariance)))
            }
        }
        storage = ModelStorage(parameters: parameters, gradients: gradients, runningStats: runningStats, layers: layers,
                               finalBN: fin, linearWeight: params.offset(TensorName(.linear(config.depth), .weight)),
                               linearBias: params.offset(TensorName(.linear(config.depth), .bias)), shortcuts: shortcuts)
        let unread = params.unread + stats.unread
        guard unread.isEmpty else { throw ResNetError.unreadTensors(unread) }
    }

    /// The plan for a batch size, built on first use (its arena holds every activation of a step).
    func plan(batch: Int) throws -> ResNetPlan {
        if let p = plans[batch] { return p }
        let p = try ResNetPlan(config: config, batch: batch, context: context)
        p.profiling = profiling
        plans[batch] = p
        return p
    }

    /// Which oneDNN implementation runs each distinct primitive at this batch size (for benchmarks and
    /// for spotting a reference-kernel fallback).
    public func kernelReport(batch: Int) throws -> [String] {
        let p = try plan(batch: batch)
        var seen = Set<String>(), out: [String] = []
        let shortcutPrims = p.shortcuts.sorted { $0.key < $1.key }.compactMap(\.value.prim)
        for s in (p.convPrims + shortcutPrims).map(\.report)
        where seen.insert(s).inserted { out.append(s) }
        let inference = try p.inferencePlan ?? InferencePlan(config: config, specs: p.specs, batch: batch, context: context)
        p.inferencePlan = inference
        for (spec, conv) in zip(p.specs, inference.convs) {
            let s = "inference conv \(spec.inChannels)→\(spec.outChannels) \(spec.inputSize)px s\(spec.stride) \(conv.epilogue): \(conv.primitive.implementation)"
            if seen.insert(s).inserted { out.append(s) }
        }
        return out
    }

    /// Turns per-phase timing on or off for every batch size (and resets the totals).
    public func setProfiling(_ on: Bool) {
        profiling = on
        for p in plans.values { p.profiling = on; p.phaseSeconds = p.phaseSeconds.map { _ in 0 } }
    }

    /// Seconds spent per phase since profiling was turned on, summed over batch sizes.
    public func phaseSeconds() -> [(Phase, Double)] {
        Phase.allCases.map { ph in (ph, plans.values.reduce(0) { $0 + $1.phaseSeconds[ph.rawValue] }) }
    }

    // MARK: parameters

    public func parameterVector() -> [Float] { parameters.array }
    public func gradientVector() -> [Float] { gradients.array }
    public func runningStatsVector() -> [Float] { runningStats.array }

    public func setParameters(_ p: [Float]) throws {
        guard p.count == parameters.count else {
            throw ResNetError.badBatch("parameter vector has \(p.count) values, the model \(parameters.count)")
        }
        parameters.copy(from: p)
    }

    public func setRunningStats(_ r: [Float]) throws {
        guard r.count == runningStats.count else {
            throw ResNetError.badBatch("running-stats vector has \(r.count) values, the model \(runningStats.count)")
        }
        runningStats.copy(from: r)
    }

    /// θ ← base + t·direction, without building anything: for loss and statistics along an update.
    public func setParameters(base: [Float], plus t: Float, times direction: [Float]) throws {
        guard base.count == parameters.count, direction.count == parameters.count else {
            throw ResNetError.badBatch("base/direction have \(base.count)/\(direction.count) values, the model \(parameters.count)")
        }
        let p = parameters.pointer
        for i in 0..<base.count { p[i] = base[i] + t * direction[i] }
    }

    /// A named tensor of the parameter vector (names as in `ParameterLayout`).
    public func parameter(_ tensor: TensorName) -> Tensor? {
        layout[tensor].map { Tensor(shape: $0.shape, data: Array(parameters.buffer[$0.range])) }
    }

    public func gradient(_ tensor: TensorName) -> Tensor? {
        layout[tensor].map { Tensor(shape: $0.shape, data: Array(gradients.buffer[$0.range])) }
    }

    /// ∂L/∂W of layer l after `backward`: [out, in, 3, 3] for conv layers, [classes, 64] for the linear layer.
    public func weightGradient(layer l: Int) throws -> Tensor {
        guard l >= 1, l <= config.depth else { throw ResNetError.noSuchLayer(l, depth: config.depth) }
        guard let t = gradient(TensorName(l == config.depth ? .linear(l) : .conv(l), .weight)) else { throw ResNetError.noSuchLayer(l, depth: config.depth) }
        return t
    }

    // MARK: passes

    /// Loads a batch (float32 NCHW [B, 3, H, W], labels in 0..<classes) and runs the forward pass.
    /// Returns the batch-mean cross-entropy (non-finite if the network overflowed).
    @discardableResult
    public func forward(images: [Float], labels: [Int32], mode: Mode = .training,
                        updateRunningStats: Bool = false) throws -> Double {
        let p = try load(images: images, labels: labels)
        lastMode = mode
        layerActivationsStored = true
        return try p.forward(storage, training: mode == .training, updateRunningStats: updateRunningStats)
    }

    /// The inference-mode forward (BN on its running statistics) that `evaluate` runs: the loss, logits and
    /// per-sample losses of `forward(mode: .inference)` up to float32 rounding, faster (BN folded into the
    /// convs, ReLU and residual add fused into them: `InferencePlan`), but no layer's activations are kept,
    /// so the layer probes (`channelMoments`, `activation`, `convInput`) throw until the next `forward`.
    @discardableResult
    public func inferenceForward(images: [Float], labels: [Int32]) throws -> Double {
        let p = try load(images: images, labels: labels)
        lastMode = .inference
        layerActivationsStored = false
        return try p.inferenceForward(storage)
    }

    /// Checks a batch and copies it into its plan, which becomes the current one.
    private func load(images: [Float], labels: [Int32]) throws -> ResNetPlan {
        let B = labels.count, per = 3 * config.imageSize * config.imageSize
        guard B > 0, images.count == B * per else {
            throw ResNetError.badBatch("\(images.count) floats for \(B) labels; expected \(B) × 3 × \(config.imageSize) × \(config.imageSize)")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= config.classes }) {
            throw ResNetError.badBatch("label \(bad) outside 0..<\(config.classes)")
        }
        let p = try plan(batch: B)
        p.arena.copy(from: images, at: p.image)
        for i in 0..<B { p.labels[i] = labels[i] }
        current = p
        return p
    }

    public func forward(images: [Float], labels: [UInt8], mode: Mode = .training,
                        updateRunningStats: Bool = false) throws -> Double {
        try forward(images: images, labels: labels.map { Int32($0) }, mode: mode, updateRunningStats: updateRunningStats)
    }

    /// Gradients of the last forward's mean loss into `gradients` (overwritten). The layers in
    /// `captureOutputGradients` get ∂L/∂(conv output) returned as NCHW tensors (Table 1, Fig. 7).
    @discardableResult
    public func backward(captureOutputGradients: Set<Int> = []) throws -> [Int: Tensor] {
        try trainingPlan().backward(storage, capture: captureOutputGradients)
    }

    /// The backward pass of the last forward from given logit gradients [B, classes] instead of the
    /// loss's: a row of the Jacobian of the logits (the appendix's Jacobian study seeds one class at a
    /// time). Parameter gradients are overwritten as by `backward()`; the loss's own logit gradients
    /// (`logitGradients()`) are left as the forward computed them.
    @discardableResult
    public func backward(logitGradients: [Float], captureOutputGradients: Set<Int> = []) throws -> [Int: Tensor] {
        let p = try trainingPlan()
        guard logitGradients.count == p.batch * config.classes else {
            throw ResNetError.badBatch("\(logitGradients.count) logit gradients for a batch of \(p.batch) × \(config.classes) logits")
        }
        return try logitGradients.withUnsafeBufferPointer { seed in
            try p.backward(storage, capture: captureOutputGradients, seed: seed.baseAddress)
        }
    }

    private func trainingPlan() throws -> ResNetPlan {
        guard let p = current else { throw ResNetError.notCaptured("a forward pass") }
        guard lastMode == .training else {
            throw ResNetError.badBatch("backward needs a training-mode forward (BN gradients use batch statistics)")
        }
        return p
    }
}
