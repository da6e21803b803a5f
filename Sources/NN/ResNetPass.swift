import Tensor

/// Offsets of one conv layer's tensors in the flat parameter / running-statistics vectors (−1: absent).
struct LayerOffsets {
    var weight = -1, bias = -1, gamma = -1, beta = -1, runningMean = -1, runningVariance = -1
}

/// The flat vectors the passes read and write.
struct ModelStorage {
    let parameters: FloatBuffer
    let gradients: FloatBuffer
    let runningStats: FloatBuffer
    let layers: [LayerOffsets]
    let finalBN: LayerOffsets
    let linearWeight: Int, linearBias: Int
    /// Option-B shortcut parameters, by the index of the block's second conv (as `ResNetPlan.shortcuts`).
    let shortcuts: [Int: LayerOffsets]
}

extension ResNetPlan {
    /// Forward pass over the batch already in `image`/`labels`. Training mode normalises with batch
    /// statistics (and updates running averages if asked); inference mode with running averages.
    /// Returns the mean loss.
    func forward(_ m: ModelStorage, training: Bool, updateRunningStats: Bool) throws -> Double {
        loopThreads = memoryBoundLoopThreads()
        let B = batch, P = m.parameters.pointer, T = loopThreads
        for (i, spec) in specs.enumerated() {
            let o = m.layers[i], prim = convPrims[i]
            try timed(.convForward) {
                try prim.runForward(src: input(i), weights: P + o.weight, bias: o.bias >= 0 ? P + o.bias : nil,
                                    dst: ptr(conv[i]), scratch: ptr(scratch))
            }
            let n = B * spec.outChannels * spec.outputSize * spec.outputSize
            var isSecond = false
            if case .blockSecond = spec.role { isSecond = true }
            // BN, the residual add and the ReLU happen in one pass over the conv output.
            let residual: BatchNorm.Residual? = isSecond
                ? try shortcutForward(m, second: i, training: training, update: updateRunningStats)
                : nil
            if config.convBatchNorm {
                timed(.batchNorm) {
                    normalize(m, o, training: training, update: updateRunningStats, src: ptr(conv[i]), dst: ptr(post[i]),
                              batchMean: ptr(mean[i]), batchVariance: ptr(variance[i]), channels: spec.outChannels,
                              HW: spec.outputSize * spec.outputSize, relu: true, residual: residual)
                }
            } else {
                let src = ptr(conv[i]), d = ptr(post[i])
                timed(.elementwise) {
                    if let r = residual {
                        Blocked.addShortcutRelu(d, src, r.x, B: B, Ci: r.channels, Hi: r.size, Co: spec.outChannels,
                                                stride: r.stride, threads: T)
                    } else {
                        parallelChunks(n, threads: T) { r in for j in r { d[j] = Swift.max(src[j], 0) } }
                    }
                }
            }
        }
        let last = specs[specs.count - 1], C = config.featureChannels, HW = last.outputSize * last.outputSize
        if hasFinalBN {
            timed(.batchNorm) {
                normalize(m, m.finalBN, training: training, update: updateRunningStats, src: ptr(post[post.count - 1]),
                          dst: ptr(finalOut), batchMean: ptr(finalMean), batchVariance: ptr(finalVariance), channels: C,
                          HW: HW, relu: false)
            }
        }
        return try headForward(m, features: ptr(finalOut))
    }

    /// Pooling, the linear layer and the loss over the last block's output (after the final BN if any),
    /// features [B, C, HW] blocked. Returns the mean loss.
    func headForward(_ m: ModelStorage, features: UnsafeMutablePointer<Float>) throws -> Double {
        let B = batch, P = m.parameters.pointer, last = specs[specs.count - 1]
        let C = config.featureChannels, HW = last.outputSize * last.outputSize
        return timed(.head) {
            Blocked.pool(ptr(pooled), features, B: B, C: C, HW: HW)
            Head.linearForward(ptr(logits), ptr(pooled), P + m.linearWeight, P + m.linearBias, B: B, C: C, K: config.classes)
            return labels.withUnsafeBufferPointer { lab -> Double in
                guard let base = lab.baseAddress else { return .nan }
                return Head.crossEntropy(ptr(losses), ptr(dlogits), ptr(logits), base, B: B, K: config.classes)
            }
        }
    }

    func normalize(_ m: ModelStorage, _ o: LayerOffsets, training: Bool, update: Bool,
                   src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>,
                   batchMean: UnsafeMutablePointer<Float>, batchVariance: UnsafeMutablePointer<Float>,
                   channels: Int, HW: Int, relu: Bool, residual: BatchNorm.Residual? = nil) {
        let P = m.parameters.pointer, R = m.runningStats.pointer
        if !training {
            // Inference reads the running statistics; they are copied where statistics probes look.
            batchMean.update(from: R + o.runningMean, count: channels)
            batchVariance.update(from: R + o.runningVariance, count: channels)
        }
        BatchNorm.forward(dst, batchMean, batchVariance, src, P + o.gamma, P + o.beta, B: batch, C: channels, HW: HW,
                          epsilon: config.bnEpsilon, training: training, relu: relu, residual: residual, threads: loopThreads)
        if training && update {
            let mom = config.bnMomentum, count = batch * HW, unbias = Float(count) / Float(max(count - 1, 1))
            for c in 0..<channels {
                R[o.runningMean + c] = (1 - mom) * R[o.runningMean + c] + mom * batchMean[c]
                R[o.runningVariance + c] = (1 - mom) * R[o.runningVariance + c] + mom * batchVariance[c] * unbias
            }
        }
    }

    /// Backward pass after a training-mode forward: fills the gradient vector (overwritten) and, for the
    /// conv layers in `capture`, copies ∂L/∂(conv output) out as NCHW tensors. It starts from the loss's
    /// logit gradients, or from `seed` [B, classes] when given.
    func backward(_ m: ModelStorage, capture: Set<Int>, seed: UnsafePointer<Float>? = nil) throws -> [Int: Tensor] {
        let B = batch, P = m.parameters.pointer, G = m.gradients.pointer, eps = config.bnEpsilon, T = loopThreads
        var captured: [Int: Tensor] = [:]
        let last = specs[specs.count - 1], C = config.featureChannels, HW = last.outputSize * last.outputSize
        let g = grads.map { ptr($0) }
        timed(.head) {
            Head.linearBackward(ptr(dpooled), G + m.linearWeight, G + m.linearBias, seed ?? UnsafePointer(ptr(dlogits)), ptr(pooled),
                                P + m.linearWeight, B: B, C: C, K: config.classes)
            Blocked.poolBackward(g[0], ptr(dpooled), B: B, C: C, HW: HW)
        }
        var dy = 0
        if hasFinalBN {
            let o = m.finalBN
            timed(.batchNorm) {
                BatchNorm.backward(g[1], G + o.gamma, G + o.beta, g[0], reluOutput: nil, ptr(post[post.count - 1]),
                                   P + o.gamma, ptr(finalMean), ptr(finalVariance), B: B, C: C, HW: HW, epsilon: eps,
                                   threads: T)
            }
            dy = 1
        }
        // Three gradient buffers rotate: dy (gradient w.r.t. the layer's post-activation), the conv
        // gradient, and the shortcut gradient a block keeps until its first conv has been processed.
        var shortcutGrad = -1
        for i in stride(from: specs.count - 1, through: 0, by: -1) {
            let spec = specs[i], o = m.layers[i]
            let n = B * spec.outChannels * spec.outputSize * spec.outputSize, sHW = spec.outputSize * spec.outputSize
            var isSecond = false
            if case .blockSecond = spec.role { isSecond = true; shortcutGrad = dy }
            var dconv = dy
            if config.convBatchNorm {
                dconv = ResNetPlan.other(dy, shortcutGrad)
                let dst = g[dconv], src = g[dy]
                // A second conv's masked gradient is kept in place for the shortcut.
                timed(.batchNorm) {
                    BatchNorm.backward(dst, G + o.gamma, G + o.beta, src, reluOutput: ptr(post[i]), storeMaskedGradient: isSecond,
                                       ptr(conv[i]), P + o.gamma, ptr(mean[i]), ptr(variance[i]),
                                       B: B, C: spec.outChannels, HW: sHW, epsilon: eps, threads: T)
                }
            } else if convPrims[i].biasGradientByCaller {
                timed(.elementwise) {
                    Blocked.reluMaskChannelSums(g[dy], ptr(post[i]), sums: G + o.bias, B: B, C: spec.outChannels, HW: sHW, threads: T)
                }
            } else {
                timed(.elementwise) { Blocked.reluMask(g[dy], ptr(post[i]), count: n, threads: T) }
            }
            if capture.contains(spec.layer) {
                var t = Tensor(zeros: [B, spec.outChannels, spec.outputSize, spec.outputSize])
                t.data.withUnsafeMutableBufferPointer { d in
                    if let base = d.baseAddress { Blocked.toNCHW(base, g[dconv], B: B, C: spec.outChannels, HW: sHW) }
                }
                captured[spec.layer] = t
            }
            try timed(.convBackwardWeights) {
                try convPrims[i].runBackwardWeights(src: input(i), diffDst: g[dconv], diffWeights: G + o.weight,
                                                    diffBias: o.bias >= 0 ? G + o.bias : nil, scratch: ptr(scratch))
            }
            guard i > 0 else { break }
            // The data gradient may not overwrite the conv gradient it is computed from, nor the shortcut
            // gradient that the block's first conv still has to add.
            let dx = ResNetPlan.other(dconv, shortcutGrad)
            try timed(.convBackwardData) {
                try convPrims[i].runBackwardData(diffDst: g[dconv], weights: P + o.weight, diffSrc: g[dx], scratch: ptr(scratch))
            }
            if case .blockFirst = spec.role, shortcutGrad >= 0 {
                // The conv gradient has been used by both conv backward passes: option B may overwrite it.
                try shortcutBackward(m, second: i + 1, gradient: g[shortcutGrad], into: g[dx], free: g[dconv])
                shortcutGrad = -1
            }
            dy = dx
        }
        return captured
    }

    /// A buffer index in 0..<3 different from `a` and from `b` (b may be −1 or equal to a).
    static func other(_ a: Int, _ b: Int) -> Int {
        for k in 0..<3 where k != a && k != b { return k }
        return (a + 1) % 3
    }
}
