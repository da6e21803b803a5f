import Tensor

/// The inference-only forward pass (`ResNet.inferenceForward`, what `evaluate` runs): every conv is one
/// oneDNN call with its bias, ReLU and residual add fused in (`InferenceConv`), BN folded into the conv
/// weights and bias from the running statistics, and only the logits and losses kept. Activations rotate
/// through the plan's three gradient buffers (unused outside backward), so no arena is added:
///   block input x in g[a]; first conv g[a] → g[b] with ReLU; the shortcut stays in g[a] (identity: the
///   second conv adds into its own input's buffer) or is written to g[c] (transitions); second conv
///   g[b] → (g[a] or g[c]) as relu(conv + b + shortcut).
final class InferencePlan {
    let convs: [InferenceConv]
    /// Option B's 1×1 shortcut convs, by the index of the block's second conv (as `ResNetPlan.shortcuts`).
    let shortcutConvs: [Int: InferenceConv]
    /// Folded (BN) weights OIHW and biases [Co] per conv, then the reorder scratch. Weight offset −1: the
    /// layer has no BN and its own weights are used as they are.
    let folded: FloatBuffer
    let weightOffsets: [Int], biasOffsets: [Int]
    let shortcutWeightOffsets: [Int: Int], shortcutBiasOffsets: [Int: Int]
    let scratch: Int

    init(config: ResNetConfig, specs: [ConvLayerSpec], batch B: Int, context: DNNLContext) throws {
        var cursor = 0
        func take(_ n: Int) -> Int { let o = cursor; cursor += (n + 15) / 16 * 16; return o }
        var cache: [String: InferenceConv] = [:], convs: [InferenceConv] = [], scratchCount = 0
        var weightOffsets: [Int] = [], biasOffsets: [Int] = []
        for spec in specs {
            let epilogue: InferenceConv.Epilogue
            if case .blockSecond = spec.role { epilogue = .residualRelu } else { epilogue = .relu }
            let key = "\(spec.inChannels) \(spec.outChannels) \(spec.inputSize) \(spec.stride) \(spec.role == .stem) \(epilogue)"
            let conv = try cache[key] ?? InferenceConv(
                context: context, batch: B, inChannels: spec.inChannels, outChannels: spec.outChannels,
                inputSize: spec.inputSize, stride: spec.stride, plainInput: spec.role == .stem, epilogue: epilogue)
            cache[key] = conv
            convs.append(conv)
            scratchCount = max(scratchCount, conv.scratchCount)
            weightOffsets.append(config.convBatchNorm ? take(spec.weightCount) : -1)
            biasOffsets.append(take(spec.outChannels))
        }
        var shortcutConvs: [Int: InferenceConv] = [:], shortcutWeights: [Int: Int] = [:], shortcutBiases: [Int: Int] = [:]
        if config.shortcut == .optionB {
            for first in config.transitionBlocks {
                let conv = try InferenceConv(context: context, batch: B, inChannels: first.inChannels,
                                             outChannels: first.outChannels, inputSize: first.inputSize,
                                             stride: first.stride, kernel: 1, plainInput: false, epilogue: .plain)
                scratchCount = max(scratchCount, conv.scratchCount)
                shortcutConvs[first.layer] = conv
                shortcutWeights[first.layer] = config.convBatchNorm ? take(first.outChannels * first.inChannels) : -1
                shortcutBiases[first.layer] = take(first.outChannels)
            }
        }
        scratch = take(scratchCount)
        self.convs = convs; self.shortcutConvs = shortcutConvs
        self.weightOffsets = weightOffsets; self.biasOffsets = biasOffsets
        shortcutWeightOffsets = shortcutWeights; shortcutBiasOffsets = shortcutBiases
        folded = FloatBuffer(count: cursor)
    }

    /// Refreshes the folded weights and biases from the current parameters and running statistics
    /// (every call: parameters change between evaluations, and this is a few MB next to the convs).
    func fold(_ m: ModelStorage, config: ResNetConfig, specs: [ConvLayerSpec]) {
        for (i, spec) in specs.enumerated() {
            fold(m, m.layers[i], weight: weightOffsets[i], bias: biasOffsets[i], outChannels: spec.outChannels,
                 perChannel: spec.inChannels * 9, epsilon: config.bnEpsilon)
        }
        for first in config.transitionBlocks {
            guard let o = m.shortcuts[first.layer], let w = shortcutWeightOffsets[first.layer],
                  let b = shortcutBiasOffsets[first.layer] else { continue }
            fold(m, o, weight: w, bias: b, outChannels: first.outChannels, perChannel: first.inChannels, epsilon: config.bnEpsilon)
        }
    }

    private func fold(_ m: ModelStorage, _ o: LayerOffsets, weight: Int, bias: Int, outChannels: Int, perChannel: Int,
                      epsilon: Float) {
        let P = m.parameters.pointer, R = m.runningStats.pointer, F = folded.pointer
        if weight >= 0 {
            InferencePlan.foldBatchNorm(F + weight, F + bias, P + o.weight, o.bias >= 0 ? P + o.bias : nil,
                                        P + o.gamma, P + o.beta, R + o.runningMean, R + o.runningVariance,
                                        outChannels: outChannels, perChannel: perChannel, epsilon: epsilon)
        } else if o.bias >= 0 {
            (F + bias).update(from: P + o.bias, count: outChannels)
        } else {
            (F + bias).update(repeating: 0, count: outChannels)  // a net built without conv biases
        }
    }

    /// BN(conv(x, W) + b) with running statistics as one conv: s = γ/sqrt(σ² + ε) per output channel,
    /// W'[o, …] = s[o]·W[o, …], b'[o] = β[o] + s[o]·(b[o] − μ[o]) (b = 0 without a conv bias).
    /// Shapes: weights [Co, perChannel], bias, gamma, beta, mean, variance [Co].
    static func foldBatchNorm(_ foldedWeights: UnsafeMutablePointer<Float>, _ foldedBias: UnsafeMutablePointer<Float>,
                              _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                              _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                              _ mean: UnsafePointer<Float>, _ variance: UnsafePointer<Float>,
                              outChannels: Int, perChannel: Int, epsilon: Float) {
        for o in 0..<outChannels {
            let s = Double(gamma[o]) / (Double(variance[o]) + Double(epsilon)).squareRoot()
            let b = Double(bias?[o] ?? 0)
            foldedBias[o] = Float(Double(beta[o]) + s * (b - Double(mean[o])))
            let scale = Float(s), w = weights + o * perChannel, fw = foldedWeights + o * perChannel
            for k in 0..<perChannel { fw[k] = scale * w[k] }
        }
    }

    /// The layer's weights for the inference conv: folded in BN nets, the parameters themselves otherwise.
    func weights(_ i: Int, _ m: ModelStorage) -> UnsafeMutablePointer<Float> {
        weightOffsets[i] >= 0 ? folded.pointer + weightOffsets[i] : m.parameters.pointer + m.layers[i].weight
    }

    func shortcutWeights(_ second: Int, _ m: ModelStorage) -> UnsafeMutablePointer<Float>? {
        guard let w = shortcutWeightOffsets[second], let o = m.shortcuts[second] else { return nil }
        return w >= 0 ? folded.pointer + w : m.parameters.pointer + o.weight
    }
}

extension ResNetPlan {
    /// Inference-mode forward of the batch in `image`/`labels` through `InferencePlan`; fills only logits,
    /// losses and dlogits (and the final BN's statistics regions). Returns the mean loss.
    func inferenceForward(_ m: ModelStorage) throws -> Double {
        loopThreads = memoryBoundLoopThreads()
        let plan = try inferencePlan ?? InferencePlan(config: config, specs: specs, batch: batch, context: context)
        inferencePlan = plan
        timed(.batchNorm) { plan.fold(m, config: config, specs: specs) }
        let F = plan.folded.pointer, scratch = F + plan.scratch, g = grads.map { ptr($0) }
        func conv(_ i: Int, from src: UnsafeMutablePointer<Float>, to dst: UnsafeMutablePointer<Float>) throws {
            try timed(.convForward) {
                try plan.convs[i].run(src: src, weights: plan.weights(i, m), bias: F + plan.biasOffsets[i], dst: dst,
                                      scratch: scratch)
            }
        }
        try conv(0, from: ptr(image), to: g[0])
        var x = 0
        for i in stride(from: 1, to: specs.count, by: 2) {
            let first = specs[i], h = ResNetPlan.other(x, -1)
            try conv(i, from: g[x], to: g[h])
            var out = x
            let region = shortcuts[i + 1]
            if region != nil || first.stride != 1 || first.inChannels != first.outChannels {
                out = ResNetPlan.other(x, h)
                if let sc = plan.shortcutConvs[i + 1], let w = plan.shortcutWeights(i + 1, m),
                   let b = plan.shortcutBiasOffsets[i + 1] {
                    try timed(.convForward) { try sc.run(src: g[x], weights: w, bias: F + b, dst: g[out], scratch: scratch) }
                } else {
                    timed(.elementwise) {
                        Blocked.shortcutForward(g[out], g[x], B: batch, Ci: first.inChannels, Hi: first.inputSize,
                                                Co: first.outChannels, stride: first.stride, offset: region?.offset ?? 0,
                                                threads: loopThreads)
                    }
                }
            }
            try conv(i + 1, from: g[h], to: g[out])
            x = out
        }
        var features = g[x]
        if hasFinalBN {
            let last = specs[specs.count - 1]
            timed(.batchNorm) {
                normalize(m, m.finalBN, training: false, update: false, src: g[x], dst: ptr(finalOut),
                          batchMean: ptr(finalMean), batchVariance: ptr(finalVariance), channels: config.featureChannels,
                          HW: last.outputSize * last.outputSize, relu: false)
            }
            features = ptr(finalOut)
        }
        return try headForward(m, features: features)
    }
}
