import Tensor

// The shortcut of a block, forward and backward, for `ResNetPlan.forward` / `backward`. Identity blocks
// and option A add the block input directly (fused into the second conv's BN or ReLU pass); the
// transition blocks of option A-split and option B compute their shortcut into `ResNetPlan.shortcuts`
// first, and the add reads it as a same-shape residual.
extension ResNetPlan {
    /// The residual that the block's second conv (index i) adds, computed here if it is not the block input.
    func shortcutForward(_ m: ModelStorage, second i: Int, training: Bool, update: Bool) throws -> BatchNorm.Residual {
        let first = specs[i - 1], x = input(i - 1)
        guard let r = shortcuts[i] else {
            return BatchNorm.Residual(x: x, channels: first.inChannels, size: first.inputSize, stride: first.stride)
        }
        let B = batch, Co = first.outChannels, Ho = first.outputSize
        if let prim = r.prim, let o = m.shortcuts[i] {
            let P = m.parameters.pointer
            try timed(.convForward) {
                try prim.runForward(src: x, weights: P + o.weight, bias: o.bias >= 0 ? P + o.bias : nil,
                                    dst: ptr(r.conv), scratch: ptr(scratch))
            }
            if config.convBatchNorm {
                timed(.batchNorm) {
                    normalize(m, o, training: training, update: update, src: ptr(r.conv), dst: ptr(r.out),
                              batchMean: ptr(r.mean), batchVariance: ptr(r.variance), channels: Co, HW: Ho * Ho, relu: false)
                }
            }
        } else {
            timed(.elementwise) {
                Blocked.shortcutForward(ptr(r.out), x, B: B, Ci: first.inChannels, Hi: first.inputSize, Co: Co,
                                        stride: first.stride, offset: r.offset, threads: loopThreads)
            }
        }
        return BatchNorm.Residual(x: ptr(r.out), channels: Co, size: Ho, stride: 1)
    }

    /// dx += the shortcut's gradient for the block whose second conv has index i. g: ∂L/∂(block output)
    /// after the ReLU mask (option B overwrites it); `free`: a buffer of at least the block input's size
    /// that nothing needs any more (option B's data gradient goes there before it is added).
    func shortcutBackward(_ m: ModelStorage, second i: Int, gradient g: UnsafeMutablePointer<Float>,
                          into dx: UnsafeMutablePointer<Float>, free: UnsafeMutablePointer<Float>) throws {
        let first = specs[i - 1], B = batch, T = loopThreads
        let Ci = first.inChannels, Hi = first.inputSize, Co = first.outChannels, Ho = first.outputSize
        guard let r = shortcuts[i] else {
            timed(.elementwise) {
                Blocked.addShortcutBackward(dx, g, B: B, Ci: Ci, Hi: Hi, Co: Co, stride: first.stride, threads: T)
            }
            return
        }
        guard let prim = r.prim, let o = m.shortcuts[i] else {
            timed(.elementwise) {
                Blocked.shortcutBackward(dx, g, B: B, Ci: Ci, Hi: Hi, Co: Co, stride: first.stride, offset: r.offset, threads: T)
            }
            return
        }
        let P = m.parameters.pointer, G = m.gradients.pointer
        if config.convBatchNorm {
            // In place: g becomes ∂L/∂(1×1 conv output).
            timed(.batchNorm) {
                BatchNorm.backward(g, G + o.gamma, G + o.beta, g, reluOutput: nil, ptr(r.conv), P + o.gamma,
                                   ptr(r.mean), ptr(r.variance), B: B, C: Co, HW: Ho * Ho, epsilon: config.bnEpsilon,
                                   threads: T)
            }
        }
        try timed(.convBackwardWeights) {
            try prim.runBackwardWeights(src: input(i - 1), diffDst: g, diffWeights: G + o.weight,
                                        diffBias: o.bias >= 0 ? G + o.bias : nil, scratch: ptr(scratch))
        }
        // oneDNN's backward-data overwrites its output, so the shortcut's part is added afterwards.
        try timed(.convBackwardData) {
            try prim.runBackwardData(diffDst: g, weights: P + o.weight, diffSrc: free, scratch: ptr(scratch))
        }
        timed(.elementwise) { Blocked.accumulate(dx, free, count: B * Ci * Hi * Hi, threads: T) }
    }
}
