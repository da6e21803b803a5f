import Dispatch
import Tensor

/// Everything one batch size needs: the activation arena (carved once into named regions), the oneDNN
/// primitives, and the forward and backward passes over them. A step allocates nothing large.
///
/// Arena regions (activations nChw16c unless said otherwise), for conv layer l (index i = l − 1):
///   conv[i]  [B, Co, Ho, Ho]  the conv output (bias included), kept for BN backward and statistics
///   post[i]  [B, Co, Ho, Ho]  after BN and ReLU; for a block's second conv, relu(BN(conv) + shortcut)
///   mean[i], variance[i] [Co] the batch statistics BN used
/// plus image [B, 3, H, W] (NCHW), final-BN output and statistics, pooled [B, 64], logits, losses,
/// dlogits [B, K], dpooled [B, 64] (row-major), three gradient buffers of the largest activation size,
/// and scratch for reordered weights.
final class ResNetPlan {
    let batch: Int
    let config: ResNetConfig
    let specs: [ConvLayerSpec]
    let arena: FloatBuffer
    var labels: [Int32]
    let conv: [Int], post: [Int], mean: [Int], variance: [Int]
    let image: Int, finalOut: Int, finalMean: Int, finalVariance: Int
    let pooled: Int, logits: Int, losses: Int, dlogits: Int, dpooled: Int
    let grads: [Int], scratch: Int
    let convPrims: [ConvPrimitives]
    let hasFinalBN: Bool
    let activationCount: Int
    /// Running-statistics update is skipped on the first call after statistics were changed elsewhere.
    var profiling = false
    var phaseSeconds = [Double](repeating: 0, count: Phase.allCases.count)

    init(config: ResNetConfig, batch B: Int, context: DNNLContext) throws {
        self.batch = B
        self.config = config
        specs = config.convLayers
        labels = [Int32](repeating: 0, count: B)
        var cursor = 0
        func take(_ n: Int) -> Int {
            let o = cursor
            cursor += (n + 15) / 16 * 16  // 64-byte aligned regions
            return o
        }
        image = take(B * 3 * config.imageSize * config.imageSize)
        var conv: [Int] = [], post: [Int] = [], mean: [Int] = [], variance: [Int] = []
        var maxAct = 0
        var cache: [String: ConvPrimitives] = [:]
        var convPrims: [ConvPrimitives] = []
        var scratchCount = 0
        for spec in specs {
            let n = B * spec.outChannels * spec.outputSize * spec.outputSize
            maxAct = max(maxAct, n)
            conv.append(take(n)); post.append(take(n))
            mean.append(take(spec.outChannels)); variance.append(take(spec.outChannels))
            let key = "\(spec.inChannels) \(spec.outChannels) \(spec.inputSize) \(spec.stride) \(spec.role == .stem)"
            let prim = try cache[key] ?? ConvPrimitives(
                context: context, batch: B, inChannels: spec.inChannels, outChannels: spec.outChannels,
                inputSize: spec.inputSize, stride: spec.stride, hasBias: config.convBias,
                plainInput: spec.role == .stem, needsDataGradient: spec.role != .stem)
            cache[key] = prim
            convPrims.append(prim)
            scratchCount = max(scratchCount, prim.scratchCount)
        }
        let C = config.featureChannels, last = specs[specs.count - 1]
        hasFinalBN = config.normalization == .lastLayerOnly
        finalOut = hasFinalBN ? take(B * C * last.outputSize * last.outputSize) : post[post.count - 1]
        finalMean = take(C); finalVariance = take(C)
        pooled = take(B * C); dpooled = take(B * C)
        logits = take(B * config.classes); dlogits = take(B * config.classes); losses = take(B)
        grads = [take(maxAct), take(maxAct), take(maxAct)]
        scratch = take(scratchCount)
        self.conv = conv; self.post = post; self.mean = mean; self.variance = variance
        self.convPrims = convPrims
        activationCount = maxAct
        arena = FloatBuffer(count: cursor)
    }

    @inline(__always) func ptr(_ offset: Int) -> UnsafeMutablePointer<Float> { arena.pointer + offset }

    /// Input of conv layer index i: the image for the stem, else the previous layer's post-activation.
    func input(_ i: Int) -> UnsafeMutablePointer<Float> { i == 0 ? ptr(image) : ptr(post[i - 1]) }
}

/// Where a step's time goes (profiling only; off by default, costs two clock reads per call when on).
public enum Phase: Int, CaseIterable, Sendable {
    case convForward, convBackwardData, convBackwardWeights, batchNorm, elementwise, head
}

extension ResNetPlan {
    @inline(__always)
    func timed<T>(_ phase: Phase, _ body: () throws -> T) rethrows -> T {
        guard profiling else { return try body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { phaseSeconds[phase.rawValue] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 }
        return try body()
    }
}
