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
}

extension ResNetPlan {
    /// Forward pass over the batch already in `image`/`labels`. Training mode normalises with batch
    /// statistics (and updates running averages if asked); inference mode with running averages.
    /// Returns the mean loss.
    func forward(_ m: ModelStorage, training: Bool, updateRunningStats: Bool) throws -> Double {
        let B = batch, P = m.parameters.pointer
        for (i, spec) in specs.enumerated() {
            let o = m.layers[i]
            let prim = convPrims[i]
            try prim.runForward(src: input(i), weights: P + o.weight, bias: o.bias >= 0 ? P + o.bias : nil,
                                dst: ptr(conv[i]), scratch: ptr(scratch))
            let n = B * spec.outChannels * spec.outputSize * spec.outputSize
            // `normed` is where BN's output (or, without BN, the conv output itself) is read from.
            var normed = ptr(conv[i])
            if let bn = bnPrims[i] {
                try runBN(bn, training: training, update: updateRunningStats, src: ptr(conv[i]), dst: ptr(post[i]),
                          o: o, storage: m, batchMean: ptr(mean[i]), batchVariance: ptr(variance[i]),
                          count: B * spec.outputSize * spec.outputSize)
                normed = ptr(post[i])
            }
            if case .blockSecond = spec.role {
                let first = specs[i - 1]
                if normed != ptr(post[i]) { ptr(post[i]).update(from: normed, count: n) }
                Blocked.addShortcutRelu(ptr(post[i]), input(i - 1), B: B, Ci: first.inChannels, Hi: first.inputSize,
                                        Co: spec.outChannels, stride: first.stride)
            } else if normed == ptr(post[i]) {
                Blocked.reluInPlace(ptr(post[i]), count: n)
            } else {
                let d = ptr(post[i])
                parallelChunks(n) { r in for j in r { d[j] = Swift.max(normed[j], 0) } }
            }
        }
        let last = specs[specs.count - 1], C = config.featureChannels, HW = last.outputSize * last.outputSize
        if let bn = finalBN {
            try runBN(bn, training: training, update: updateRunningStats, src: ptr(post[post.count - 1]), dst: ptr(finalOut),
                      o: m.finalBN, storage: m, batchMean: ptr(finalMean), batchVariance: ptr(finalVariance), count: B * HW)
        }
        Blocked.pool(ptr(pooled), ptr(finalOut), B: B, C: C, HW: HW)
        Head.linearForward(ptr(logits), ptr(pooled), P + m.linearWeight, P + m.linearBias, B: B, C: C, K: config.classes)
        return labels.withUnsafeBufferPointer { lab -> Double in
            guard let base = lab.baseAddress else { return .nan }
            return Head.crossEntropy(ptr(losses), ptr(dlogits), ptr(logits), base, B: B, K: config.classes)
        }
    }

    private func runBN(_ bn: BatchNormPrimitives, training: Bool, update: Bool, src: UnsafeMutablePointer<Float>,
                       dst: UnsafeMutablePointer<Float>, o: LayerOffsets, storage m: ModelStorage,
                       batchMean: UnsafeMutablePointer<Float>, batchVariance: UnsafeMutablePointer<Float>, count: Int) throws {
        let P = m.parameters.pointer, R = m.runningStats.pointer
        if training {
            try bn.runForward(training: true, src: src, dst: dst, gamma: P + o.gamma, beta: P + o.beta,
                              mean: batchMean, variance: batchVariance)
            if update {
                let mom = config.bnMomentum, unbias = Float(count) / Float(max(count - 1, 1))
                for c in 0..<bn.channels {
                    R[o.runningMean + c] = (1 - mom) * R[o.runningMean + c] + mom * batchMean[c]
                    R[o.runningVariance + c] = (1 - mom) * R[o.runningVariance + c] + mom * batchVariance[c] * unbias
                }
            }
        } else {
            // Inference reads the running statistics; copy them where statistics probes look.
            batchMean.update(from: R + o.runningMean, count: bn.channels)
            batchVariance.update(from: R + o.runningVariance, count: bn.channels)
            try bn.runForward(training: false, src: src, dst: dst, gamma: P + o.gamma, beta: P + o.beta,
                              mean: batchMean, variance: batchVariance)
        }
    }

    /// Backward pass after a training-mode forward: fills the gradient vector (overwritten) and, for the
    /// conv layers in `capture`, copies ∂L/∂(conv output) out as NCHW tensors.
    func backward(_ m: ModelStorage, capture: Set<Int>) throws -> [Int: Tensor] {
        let B = batch, P = m.parameters.pointer, G = m.gradients.pointer
        var captured: [Int: Tensor] = [:]
        let last = specs[specs.count - 1], C = config.featureChannels, HW = last.outputSize * last.outputSize
        let g = grads.map { ptr($0) }
        Head.linearBackward(ptr(dpooled), G + m.linearWeight, G + m.linearBias, ptr(dlogits), ptr(pooled),
                            P + m.linearWeight, B: B, C: C, K: config.classes)
        Blocked.poolBackward(g[0], ptr(dpooled), B: B, C: C, HW: HW)
        var dy = 0
        if let bn = finalBN {
            let o = m.finalBN
            try bn.runBackward(diffDst: g[0], src: ptr(post[post.count - 1]), gamma: P + o.gamma, beta: P + o.beta,
                               mean: ptr(finalMean), variance: ptr(finalVariance), diffSrc: g[1],
                               diffGamma: G + o.gamma, diffBeta: G + o.beta)
            dy = 1
        }
        var shortcutGrad = -1  // buffer holding the gradient that flows to the block input via the shortcut
        for i in stride(from: specs.count - 1, through: 0, by: -1) {
            let spec = specs[i], o = m.layers[i]
            let n = B * spec.outChannels * spec.outputSize * spec.outputSize
            Blocked.reluMask(g[dy], ptr(post[i]), count: n)
            if case .blockSecond = spec.role { shortcutGrad = dy }
            var dconv = dy
            if let bn = bnPrims[i] {
                dconv = ResNetPlan.other(dy, shortcutGrad)
                try bn.runBackward(diffDst: g[dy], src: ptr(conv[i]), gamma: P + o.gamma, beta: P + o.beta,
                                   mean: ptr(mean[i]), variance: ptr(variance[i]), diffSrc: g[dconv],
                                   diffGamma: G + o.gamma, diffBeta: G + o.beta)
            }
            if capture.contains(spec.layer) {
                var t = Tensor(zeros: [B, spec.outChannels, spec.outputSize, spec.outputSize])
                t.data.withUnsafeMutableBufferPointer { d in
                    if let base = d.baseAddress {
                        Blocked.toNCHW(base, g[dconv], B: B, C: spec.outChannels, HW: spec.outputSize * spec.outputSize)
                    }
                }
                captured[spec.layer] = t
            }
            try convPrims[i].runBackwardWeights(src: input(i), diffDst: g[dconv], diffWeights: G + o.weight,
                                                diffBias: o.bias >= 0 ? G + o.bias : nil, scratch: ptr(scratch))
            guard i > 0 else { break }
            // The data gradient may not overwrite the conv gradient it is computed from, nor the shortcut
            // gradient that the block's first conv still has to add.
            let dx = ResNetPlan.other(dconv, shortcutGrad)
            try convPrims[i].runBackwardData(diffDst: g[dconv], weights: P + o.weight, diffSrc: g[dx], scratch: ptr(scratch))
            if case .blockFirst = spec.role, shortcutGrad >= 0 {
                Blocked.addShortcutBackward(g[dx], g[shortcutGrad], B: B, Ci: spec.inChannels, Hi: spec.inputSize,
                                            Co: spec.outChannels, stride: spec.stride)
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
