import Dispatch
import Tensor

/// Everything one batch size needs: the activation arena (carved once into named regions), the oneDNN
/// primitives, and the forward and backward passes over them. A step allocates nothing large.
///
/// Arena regions (activations blocked, `Blocked.block`, unless said otherwise), for conv layer l (index i = l − 1):
///   conv[i]  [B, Co, Ho, Ho]  the conv output (bias included), kept for BN backward and statistics
///   post[i]  [B, Co, Ho, Ho]  after BN and ReLU; for a block's second conv, relu(BN(conv) + shortcut)
///   mean[i], variance[i] [Co] the batch statistics BN used
/// plus image [B, 3, H, W] (NCHW), final-BN output and statistics, pooled [B, 64], logits, losses,
/// dlogits [B, K], dpooled [B, 64] (row-major), three gradient buffers of the largest activation size,
/// scratch for reordered weights, and the shortcuts of the two transition blocks unless they are option A
/// (which the residual add reads straight from the block input): see `ShortcutRegions`.
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
    /// By the index of the block's second conv (the layer whose residual add reads it).
    let shortcuts: [Int: ShortcutRegions]
    let hasFinalBN: Bool
    let activationCount: Int
    /// Running-statistics update is skipped on the first call after statistics were changed elsewhere.
    var profiling = false
    /// Threads for our memory-bound loops, chosen at each forward from the machine's load.
    var loopThreads = 1
    var phaseSeconds = [Double](repeating: 0, count: Phase.allCases.count)
    let context: DNNLContext
    /// The fused inference convolutions, built on the first `inferenceForward` (training never needs them).
    var inferencePlan: InferencePlan?

    init(config: ResNetConfig, batch B: Int, context: DNNLContext) throws {
        self.batch = B
        self.config = config
        self.context = context
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
        let biasGradientByEngine = ActiveEnginePlan.current.biasGradientByEngine
        for spec in specs {
            let n = B * spec.outChannels * spec.outputSize * spec.outputSize
            maxAct = max(maxAct, n)
            conv.append(take(n)); post.append(take(n))
            mean.append(take(spec.outChannels)); variance.append(take(spec.outChannels))
            let key = "\(spec.inChannels) \(spec.outChannels) \(spec.inputSize) \(spec.stride) \(spec.role == .stem)"
            let prim = try cache[key] ?? ConvPrimitives(
                context: context, batch: B, inChannels: spec.inChannels, outChannels: spec.outChannels,
                inputSize: spec.inputSize, stride: spec.stride, hasBias: config.convBias,
                plainInput: spec.role == .stem, needsDataGradient: spec.role != .stem,
                biasGradientByCaller: biasGradientByEngine)
            cache[key] = prim
            convPrims.append(prim)
            scratchCount = max(scratchCount, prim.scratchCount)
        }
        var shortcuts: [Int: ShortcutRegions] = [:]
        if config.shortcut != .optionA {
            for first in config.transitionBlocks {
                let Co = first.outChannels, n = B * Co * first.outputSize * first.outputSize
                var r = ShortcutRegions(offset: (Co - first.inChannels) / 2)
                if config.shortcut == .optionB {
                    // Its bias gradient stays oneDNN's: no ReLU backward pass of its own to fuse the sum into,
                    // and two convolutions per network are not worth a second path.
                    let prim = try ConvPrimitives(context: context, batch: B, inChannels: first.inChannels, outChannels: Co,
                                                  inputSize: first.inputSize, stride: first.stride, kernel: 1,
                                                  hasBias: config.convBias, plainInput: false, needsDataGradient: true)
                    scratchCount = max(scratchCount, prim.scratchCount)
                    r.prim = prim
                    r.conv = take(n)
                    if config.convBatchNorm {
                        r.out = take(n); r.mean = take(Co); r.variance = take(Co)
                    } else {
                        r.out = r.conv  // with a bias and no BN, the conv output is the shortcut
                    }
                } else {
                    r.out = take(n)
                }
                // Layer numbers are 1-based: the second conv (layer first.layer + 1) has index first.layer.
                shortcuts[first.layer] = r
            }
        }
        self.shortcuts = shortcuts
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

/// Arena regions of a transition block's shortcut when it is not option A: `out` [B, Co, Ho, Ho] is what the
/// residual add reads. A-split: out only, the input channels at `offset`. Option B: `conv` is the 1×1 conv's
/// output (with bias in nets without BN, where out = conv); in the BN net `out` = BN(conv) with the batch
/// statistics in `mean`, `variance` [Co]. −1: absent.
struct ShortcutRegions {
    var offset: Int
    var prim: ConvPrimitives?
    var conv = -1, out = -1, mean = -1, variance = -1
    init(offset: Int) { self.offset = offset }
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
