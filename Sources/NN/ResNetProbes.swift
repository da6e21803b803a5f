import Tensor

// What the analyses read after a forward (and backward) pass, by layer number.
extension ResNet {
    private func requirePlan() throws -> ResNetPlan {
        guard let p = current else { throw ResNetError.notCaptured("a forward pass") }
        return p
    }

    /// The plan of the last forward, which must have kept every layer's activations (not `inferenceForward`).
    private func requireLayerActivations() throws -> ResNetPlan {
        guard layerActivationsStored else {
            throw ResNetError.notCaptured("a layer's activations after inferenceForward (it keeps only logits and losses; run forward(mode:) to probe layers)")
        }
        return try requirePlan()
    }

    /// Per-sample cross-entropy losses [B] of the last forward.
    public func perSampleLosses() throws -> [Float] {
        let p = try requirePlan()
        return Array(UnsafeBufferPointer(start: p.ptr(p.losses), count: p.batch))
    }

    /// Logits [B, classes] of the last forward.
    public func logits() throws -> Tensor {
        let p = try requirePlan()
        return Tensor(shape: [p.batch, config.classes],
                      data: Array(UnsafeBufferPointer(start: p.ptr(p.logits), count: p.batch * config.classes)))
    }

    /// ∂L/∂logits [B, classes] of the last forward, L the batch-mean loss: (softmax − onehot)/B.
    /// (∂L_b/∂logits_b, the per-image loss's gradient, is B times this row.)
    public func logitGradients() throws -> Tensor {
        let p = try requirePlan()
        return Tensor(shape: [p.batch, config.classes],
                      data: Array(UnsafeBufferPointer(start: p.ptr(p.dlogits), count: p.batch * config.classes)))
    }

    /// Per-channel mean and variance (biased, over batch and space) of layer l's activations at `point`.
    /// For the linear layer (l = depth) these are the moments of the logits over the batch.
    public func channelMoments(layer l: Int, at point: ActivationPoint = .convOutput) throws -> (mean: [Double], variance: [Double]) {
        let p = try requirePlan()
        guard l >= 1, l <= config.depth else { throw ResNetError.noSuchLayer(l, depth: config.depth) }
        if l == config.depth {
            let K = config.classes, B = p.batch, z = p.ptr(p.logits)
            var mean = [Double](repeating: 0, count: K), variance = mean
            for k in 0..<K {
                var s = 0.0
                for b in 0..<B { s += Double(z[b * K + k]) }
                mean[k] = s / Double(B)
                var v = 0.0
                for b in 0..<B { let d = Double(z[b * K + k]) - mean[k]; v += d * d }
                variance[k] = v / Double(B)
            }
            return (mean, variance)
        }
        _ = try requireLayerActivations()
        let i = l - 1, spec = p.specs[i], HW = spec.outputSize * spec.outputSize
        switch point {
        case .convOutput:
            return Blocked.channelMoments(p.ptr(p.conv[i]), B: p.batch, C: spec.outChannels, HW: HW)
        case .postActivation:
            return Blocked.channelMoments(p.ptr(p.post[i]), B: p.batch, C: spec.outChannels, HW: HW)
        case .normalized:
            let raw = Blocked.channelMoments(p.ptr(p.conv[i]), B: p.batch, C: spec.outChannels, HW: HW)
            guard config.convBatchNorm else { return raw }
            let o = storage.layers[i], P = parameters.pointer, eps = Double(config.bnEpsilon)
            var mean = raw.mean, variance = raw.variance
            for c in 0..<spec.outChannels {
                // BN used these statistics (the batch's in training mode, the running ones in inference).
                let mu = Double(p.ptr(p.mean[i])[c]), v = Double(p.ptr(p.variance[i])[c])
                let g = Double(P[o.gamma + c]), b = Double(P[o.beta + c])
                mean[c] = g * (raw.mean[c] - mu) / (v + eps).squareRoot() + b
                variance[c] = g * g * raw.variance[c] / (v + eps)
            }
            return (mean, variance)
        }
    }

    /// The input of conv layer l as NCHW [B, Ci, H, H] (the image for layer 1).
    public func convInput(layer l: Int) throws -> Tensor {
        let p = try requireLayerActivations()
        guard l >= 1, l <= config.depth else { throw ResNetError.noSuchLayer(l, depth: config.depth) }
        guard l < config.depth else { throw ResNetError.notAConvLayer(l) }
        let spec = p.specs[l - 1], HW = spec.inputSize * spec.inputSize
        if l == 1 {
            return Tensor(shape: [p.batch, 3, spec.inputSize, spec.inputSize],
                          data: Array(UnsafeBufferPointer(start: p.ptr(p.image), count: p.batch * 3 * HW)))
        }
        return nchw(p.ptr(p.post[l - 2]), B: p.batch, C: spec.inChannels, size: spec.inputSize)
    }

    /// Layer l's activation at `point` as NCHW (for `.normalized` only where it is stored: layers without BN).
    public func activation(layer l: Int, at point: ActivationPoint = .convOutput) throws -> Tensor {
        let p = try requireLayerActivations()
        guard l >= 1, l < config.depth else { throw ResNetError.notAConvLayer(l) }
        let i = l - 1, spec = p.specs[i]
        switch point {
        case .convOutput: return nchw(p.ptr(p.conv[i]), B: p.batch, C: spec.outChannels, size: spec.outputSize)
        case .postActivation: return nchw(p.ptr(p.post[i]), B: p.batch, C: spec.outChannels, size: spec.outputSize)
        case .normalized:
            guard !config.convBatchNorm else { throw ResNetError.notCaptured("the BN output of layer \(l) (not stored; use channelMoments)") }
            return nchw(p.ptr(p.conv[i]), B: p.batch, C: spec.outChannels, size: spec.outputSize)
        }
    }

    private func nchw(_ src: UnsafeMutablePointer<Float>, B: Int, C: Int, size: Int) -> Tensor {
        var t = Tensor(zeros: [B, C, size, size])
        t.data.withUnsafeMutableBufferPointer { d in
            if let base = d.baseAddress { Blocked.toNCHW(base, src, B: B, C: C, HW: size * size) }
        }
        return t
    }
}
