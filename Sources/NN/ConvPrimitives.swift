import CDNNL
import Tensor

/// oneDNN forward, backward-data and backward-weights primitives for one convolution shape (3×3 with
/// padding 1, or the 1×1 projection shortcut without padding), shared by every layer of that shape. Activations are blocked (`Blocked.block`; the first layer's input is
/// plain NCHW); weights are stored OIHW by the caller and reordered into whatever format each primitive
/// chose (`format_tag_any`) just before it runs; the reorder is tiny next to the convolution.
/// Memory objects are re-pointed at each call: the arena decides where data lives.
final class ConvPrimitives {
    let batch: Int, inChannels: Int, outChannels: Int, inputSize: Int, stride: Int, kernel: Int, hasBias: Bool
    /// The caller computes the bias's gradient (`Blocked.reluMaskChannelSums`): the backward-weights pass
    /// computes the weights' only.
    let biasGradientByCaller: Bool
    var outputSize: Int { inputSize / stride }
    let forward: DNNLPrimitive
    let backwardData: DNNLPrimitive?
    let backwardWeights: DNNLPrimitive
    private let toForwardWeights: DNNLPrimitive?
    private let toBackwardWeights: DNNLPrimitive?
    private let fromDiffWeights: DNNLPrimitive?
    private let weightsUser, weightsForward, weightsBackward, bias: DNNLMemory
    private let diffWeights, diffWeightsUser, diffBias: DNNLMemory
    /// The activations of each pass, staged into the primitive's layout where it differs from the engine's.
    private let forwardSrc, forwardDst, weightsSrc, weightsDiffDst: ActivationStaging
    private let dataDiffDst, dataDiffSrc: ActivationStaging?
    private let context: DNNLContext

    /// Floats of scratch the caller must supply for packed weights.
    let scratchCount: Int

    init(context: DNNLContext, batch: Int, inChannels: Int, outChannels: Int, inputSize: Int, stride: Int,
         kernel: Int = 3, hasBias: Bool, plainInput: Bool, needsDataGradient: Bool, biasGradientByCaller: Bool = false) throws {
        self.context = context
        self.biasGradientByCaller = hasBias && biasGradientByCaller
        let weightsPassBias = hasBias && !biasGradientByCaller
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
        self.inputSize = inputSize; self.stride = stride; self.kernel = kernel; self.hasBias = hasBias
        let (geometry, forwardPrimitive) = try ConvGeometry.chooseLayout({ library in
            try ConvGeometry(batch: batch, inChannels: inChannels, outChannels: outChannels, inputSize: inputSize,
                             stride: stride, kernel: kernel, plainInput: plainInput, libraryLayout: library)
        }, forward: { g in
            var fd = try g.forwardDescriptor(dnnl_forward_training, bias: hasBias)
            return try ConvImplementation.make(key: g.planKey(.forwardTraining, bias: hasBias), pass: .forwardTraining,
                                               bias: hasBias, op: &fd, context: context)
        })
        forward = forwardPrimitive
        let srcMD = geometry.src, dstMD = geometry.dst, wUser = geometry.weightsUser, biasMD = geometry.bias
        // A zero descriptor tells oneDNN "no bias".
        var biasArg = weightsPassBias ? biasMD : dnnl_memory_desc_t()
        var srcV = geometry.opSrc, dstV = geometry.opDst, wV = geometry.weightsAny
        let wFwd = forward.queryMemoryDesc(dnnl_query_weights_md)
        if needsDataGradient {
            var bd = dnnl_convolution_desc_t()
            try geometry.withPadding { sp, pl, pr in
                try dnnlCheck(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &srcV, &wV, &dstV,
                                                                       sp, pl, pr),
                              "dnnl_convolution_backward_data_desc_init")
            }
            backwardData = try ConvImplementation.make(key: geometry.planKey(.backwardData, bias: false), pass: .backwardData,
                                                       bias: false, op: &bd, context: context, hint: forward)
        } else {
            backwardData = nil
        }
        var bw = dnnl_convolution_desc_t()
        try geometry.withPadding { sp, pl, pr in
            try dnnlCheck(dnnl_convolution_backward_weights_desc_init(&bw, dnnl_convolution_direct, &srcV, &wV,
                                                                      &biasArg, &dstV, sp, pl, pr),
                          "dnnl_convolution_backward_weights_desc_init")
        }
        backwardWeights = try ConvImplementation.make(key: geometry.planKey(.backwardWeights, bias: weightsPassBias), pass: .backwardWeights,
                                                      bias: weightsPassBias, op: &bw, context: context, hint: forward)
        let wBwd = backwardData?.queryMemoryDesc(dnnl_query_weights_md) ?? wFwd
        let dW = backwardWeights.queryMemoryDesc(dnnl_query_diff_weights_md)

        toForwardWeights = MemoryDesc.equal(wFwd, wUser) ? nil : try DNNLPrimitive.reorder(from: wUser, to: wFwd, context: context)
        toBackwardWeights = MemoryDesc.equal(wBwd, wUser) ? nil : try DNNLPrimitive.reorder(from: wUser, to: wBwd, context: context)
        fromDiffWeights = MemoryDesc.equal(dW, wUser) ? nil : try DNNLPrimitive.reorder(from: dW, to: wUser, context: context)
        scratchCount = max(MemoryDesc.bytes(wFwd), MemoryDesc.bytes(wBwd), MemoryDesc.bytes(dW)) / 4

        weightsUser = try DNNLMemory(wUser, context, pointer: nil)
        weightsForward = try DNNLMemory(wFwd, context, pointer: nil)
        weightsBackward = try DNNLMemory(wBwd, context, pointer: nil)
        bias = try DNNLMemory(biasMD, context, pointer: nil)
        diffWeights = try DNNLMemory(dW, context, pointer: nil)
        diffWeightsUser = try DNNLMemory(wUser, context, pointer: nil)
        diffBias = try DNNLMemory(biasMD, context, pointer: nil)
        func staging(_ engine: dnnl_memory_desc_t, _ primitive: DNNLPrimitive, _ query: dnnl_query_t, reads: Bool) throws -> ActivationStaging {
            try ActivationStaging(engine: engine, primitive: primitive.queryMemoryDesc(query), reads: reads, writes: !reads, context: context)
        }
        forwardSrc = try staging(srcMD, forward, dnnl_query_src_md, reads: true)
        forwardDst = try staging(dstMD, forward, dnnl_query_dst_md, reads: false)
        weightsSrc = try staging(srcMD, backwardWeights, dnnl_query_src_md, reads: true)
        weightsDiffDst = try staging(dstMD, backwardWeights, dnnl_query_diff_dst_md, reads: true)
        if let backwardData {
            dataDiffDst = try staging(dstMD, backwardData, dnnl_query_diff_dst_md, reads: true)
            dataDiffSrc = try staging(srcMD, backwardData, dnnl_query_diff_src_md, reads: false)
        } else {
            dataDiffDst = nil
            dataDiffSrc = nil
        }
    }

    /// Whether the activations are copied into another layout around each call (a CPU without a kernel
    /// over the engine's layout).
    var stagesActivations: Bool { forwardSrc.isStaged || forwardDst.isStaged }

    /// dst[B, Co, Ho, Ho] (blocked) = conv(src, weights OIHW) + bias.
    func runForward(src s: UnsafeMutablePointer<Float>, weights w: UnsafeMutablePointer<Float>,
                    bias b: UnsafeMutablePointer<Float>?, dst d: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>) throws {
        try weightsUser.setPointer(w)
        var wmem = weightsUser
        if let r = toForwardWeights {
            try weightsForward.setPointer(scratch)
            try r.execute(context, [(DNNLArg.from, weightsUser), (DNNLArg.to, weightsForward)])
            wmem = weightsForward
        }
        var args = [(DNNLArg.src, try forwardSrc.bind(s)), (DNNLArg.weights, wmem), (DNNLArg.dst, try forwardDst.bind(d))]
        if hasBias, let b { try bias.setPointer(b); args.append((DNNLArg.bias, bias)) }
        try forward.execute(context, args)
        try forwardDst.finish()
    }

    /// diffSrc = convᵀ(diffDst) with the layer's weights.
    func runBackwardData(diffDst g: UnsafeMutablePointer<Float>, weights w: UnsafeMutablePointer<Float>,
                         diffSrc dx: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) throws {
        guard let prim = backwardData, let dataDiffDst, let dataDiffSrc else { return }
        try weightsUser.setPointer(w)
        var wmem = weightsUser
        if let r = toBackwardWeights {
            try weightsBackward.setPointer(scratch)
            try r.execute(context, [(DNNLArg.from, weightsUser), (DNNLArg.to, weightsBackward)])
            wmem = weightsBackward
        }
        try prim.execute(context, [(DNNLArg.diffDst, try dataDiffDst.bind(g)), (DNNLArg.weights, wmem),
                                   (DNNLArg.diffSrc, try dataDiffSrc.bind(dx))])
        try dataDiffSrc.finish()
    }

    /// diffWeights (OIHW, overwritten) and diffBias from src and diffDst; diffBias is left alone when the
    /// caller computes it (`biasGradientByCaller`).
    func runBackwardWeights(src s: UnsafeMutablePointer<Float>, diffDst g: UnsafeMutablePointer<Float>,
                            diffWeights dw: UnsafeMutablePointer<Float>, diffBias db: UnsafeMutablePointer<Float>?,
                            scratch: UnsafeMutablePointer<Float>) throws {
        try diffWeightsUser.setPointer(dw)
        let target = fromDiffWeights == nil ? diffWeightsUser : diffWeights
        if fromDiffWeights != nil { try diffWeights.setPointer(scratch) }
        var args = [(DNNLArg.src, try weightsSrc.bind(s)), (DNNLArg.diffDst, try weightsDiffDst.bind(g)), (DNNLArg.diffWeights, target)]
        if hasBias, !biasGradientByCaller, let db { try diffBias.setPointer(db); args.append((DNNLArg.diffBias, diffBias)) }
        try backwardWeights.execute(context, args)
        if let r = fromDiffWeights {
            try r.execute(context, [(DNNLArg.from, diffWeights), (DNNLArg.to, diffWeightsUser)])
        }
    }
}

extension ConvPrimitives {
    var report: String {
        "conv\(kernel == 3 ? "" : " \(kernel)×\(kernel)") \(inChannels)→\(outChannels) \(inputSize)px s\(stride): fwd \(forward.implementation), "
            + "bwd-data \(backwardData?.implementation ?? "-"), bwd-weights \(backwardWeights.implementation)"
    }
}
