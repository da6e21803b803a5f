import CDNNL
import Tensor

/// oneDNN batch normalisation for one activation shape [B, C, H, H] (nChw16c), with scale (γ) and
/// shift (β): training forward (batch statistics out), inference forward (given statistics) and
/// backward (data, γ and β gradients). oneDNN's variance is the biased one, as in the normalisation.
final class BatchNormPrimitives {
    let batch: Int, channels: Int, size: Int
    let training, inference, backward: DNNLPrimitive
    private let src, dst, mean, variance, scale, shift, diffDst, diffSrc, diffScale, diffShift: DNNLMemory
    private let context: DNNLContext

    init(context: DNNLContext, batch: Int, channels: Int, size: Int, epsilon: Float) throws {
        self.context = context
        self.batch = batch; self.channels = channels; self.size = size
        var data = try MemoryDesc.make([batch, channels, size, size], dnnl_nChw16c)
        let stat = try MemoryDesc.make([channels], dnnl_x)
        let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
        var fd = dnnl_batch_normalization_desc_t()
        try dnnlCheck(dnnl_batch_normalization_forward_desc_init(&fd, dnnl_forward_training, &data, epsilon, flags),
                      "dnnl_batch_normalization_forward_desc_init(training)")
        training = try DNNLPrimitive(op: &fd, context: context)
        var id = dnnl_batch_normalization_desc_t()
        try dnnlCheck(dnnl_batch_normalization_forward_desc_init(&id, dnnl_forward_inference, &data, epsilon,
                                                                 flags | dnnl_use_global_stats.rawValue),
                      "dnnl_batch_normalization_forward_desc_init(inference)")
        inference = try DNNLPrimitive(op: &id, context: context)
        var bd = dnnl_batch_normalization_desc_t()
        try dnnlCheck(dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &data, &data, epsilon, flags),
                      "dnnl_batch_normalization_backward_desc_init")
        backward = try DNNLPrimitive(op: &bd, context: context, hint: training)
        src = try DNNLMemory(data, context, pointer: nil)
        dst = try DNNLMemory(data, context, pointer: nil)
        diffDst = try DNNLMemory(data, context, pointer: nil)
        diffSrc = try DNNLMemory(data, context, pointer: nil)
        mean = try DNNLMemory(stat, context, pointer: nil)
        variance = try DNNLMemory(stat, context, pointer: nil)
        scale = try DNNLMemory(stat, context, pointer: nil)
        shift = try DNNLMemory(stat, context, pointer: nil)
        diffScale = try DNNLMemory(stat, context, pointer: nil)
        diffShift = try DNNLMemory(stat, context, pointer: nil)
    }

    /// dst = γ·(src − μ)/sqrt(σ² + ε) + β. Training: μ, σ² are computed from the batch and written to
    /// `mean`/`variance`; inference: they are read from there.
    func runForward(training isTraining: Bool, src s: UnsafeMutablePointer<Float>, dst d: UnsafeMutablePointer<Float>,
                    gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>,
                    mean m: UnsafeMutablePointer<Float>, variance v: UnsafeMutablePointer<Float>) throws {
        try src.setPointer(s); try dst.setPointer(d); try scale.setPointer(gamma); try shift.setPointer(beta)
        try mean.setPointer(m); try variance.setPointer(v)
        try (isTraining ? training : inference).execute(context, [
            (DNNLArg.src, src), (DNNLArg.dst, dst), (DNNLArg.scale, scale), (DNNLArg.shift, shift),
            (DNNLArg.mean, mean), (DNNLArg.variance, variance),
        ])
    }

    /// diffSrc, dγ, dβ (overwritten) from diffDst, the forward's src and its saved batch statistics.
    /// diffSrc may alias diffDst.
    func runBackward(diffDst g: UnsafeMutablePointer<Float>, src s: UnsafeMutablePointer<Float>,
                     gamma: UnsafeMutablePointer<Float>, beta: UnsafeMutablePointer<Float>,
                     mean m: UnsafeMutablePointer<Float>, variance v: UnsafeMutablePointer<Float>,
                     diffSrc dx: UnsafeMutablePointer<Float>, diffGamma: UnsafeMutablePointer<Float>,
                     diffBeta: UnsafeMutablePointer<Float>) throws {
        try diffDst.setPointer(g); try src.setPointer(s); try scale.setPointer(gamma); try shift.setPointer(beta)
        try mean.setPointer(m); try variance.setPointer(v); try diffSrc.setPointer(dx)
        try diffScale.setPointer(diffGamma); try diffShift.setPointer(diffBeta)
        try backward.execute(context, [
            (DNNLArg.diffDst, diffDst), (DNNLArg.src, src), (DNNLArg.scale, scale), (DNNLArg.shift, shift),
            (DNNLArg.mean, mean), (DNNLArg.variance, variance), (DNNLArg.diffSrc, diffSrc),
            (DNNLArg.diffScale, diffScale), (DNNLArg.diffShift, diffShift),
        ])
    }
}

extension BatchNormPrimitives {
    var report: String {
        "bn \(channels)ch \(size)px: train \(training.implementation), infer \(inference.implementation), bwd \(backward.implementation)"
    }
}
