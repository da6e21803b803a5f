// The whole ResNet in Float64 from the reference layers: training-mode BN, mean cross-entropy.
// Same parameter layout as the fast model, so gradients compare entry by entry.

public struct ReferenceResNet {
    public let config: ResNetConfig

    public init(config: ResNetConfig) { self.config = config }

    public struct Output {
        public var loss = 0.0
        public var losses: [Double] = []
        public var logits: [Double] = []
        public var dlogits: [Double] = []
        public var gradients: [Double] = []
        /// Conv outputs (incl. bias, before BN), NCHW, by layer − 1.
        public var convOutputs: [[Double]] = []
        /// Activations after the ReLU that follows each conv (for a block's second conv: after the
        /// residual add and ReLU), NCHW, by layer − 1.
        public var postActivations: [[Double]] = []
    }

    private struct ConvSave {
        var input: [Double] = [], conv: [Double] = [], mean: [Double] = [], rstd: [Double] = []
        var normed: [Double] = [], post: [Double] = []
    }

    public func run(parameters p: [Double], images: [Double], labels: [Int], batch B: Int,
                    computeGradients: Bool = true) -> Output {
        let layout = config.parameterLayout
        func view(_ tensor: TensorName) -> [Double] {
            guard let e = layout[tensor] else { return [] }
            return Array(p[e.range])
        }
        let specs = config.convLayers
        let eps = Double(config.bnEpsilon)
        var saves = [ConvSave](repeating: ConvSave(), count: specs.count)

        func convAndNorm(_ spec: ConvLayerSpec, _ input: [Double]) -> ConvSave {
            var s = ConvSave()
            s.input = input
            let bias = config.convBias ? view(TensorName(.conv(spec.layer), .bias)) : nil
            Reference.convForward(&s.conv, input, view(TensorName(.conv(spec.layer), .weight)), bias, B, spec.inChannels,
                                  spec.inputSize, spec.inputSize, spec.outChannels, spec.stride)
            if config.convBatchNorm {
                Reference.batchNormForward(&s.normed, &s.mean, &s.rstd, s.conv, view(TensorName(.bn(spec.layer), .weight)),
                                           view(TensorName(.bn(spec.layer), .bias)), B, spec.outChannels,
                                           spec.outputSize * spec.outputSize, eps)
            } else {
                s.normed = s.conv
            }
            return s
        }

        // The shortcut of the block whose first conv is `first`: zero padding (option A, A-split, and
        // every block that keeps its shape, where it is the identity), or option B's 1×1 conv (+ BN).
        let transitions = Set(config.transitionBlocks.map(\.layer))
        func isProjection(_ first: ConvLayerSpec) -> Bool { config.shortcut == .optionB && transitions.contains(first.layer) }
        func paddingOffset(_ first: ConvLayerSpec) -> Int {
            config.shortcut == .optionASplit && transitions.contains(first.layer) ? (first.outChannels - first.inChannels) / 2 : 0
        }
        func shortcutForward(_ first: ConvLayerSpec, _ input: [Double]) -> (value: [Double], save: ConvSave) {
            var s = ConvSave()
            s.input = input
            let Ci = first.inChannels, H = first.inputSize, Co = first.outChannels, st = first.stride
            guard isProjection(first) else {
                Reference.shortcutForward(&s.normed, input, B, Ci, H, H, Co, st, offset: paddingOffset(first))
                return (s.normed, s)
            }
            let l = first.layer + 1
            Reference.projectionForward(&s.conv, input, view(TensorName(.shortcut(l), .weight)),
                                        config.convBias ? view(TensorName(.shortcut(l), .bias)) : nil,
                                        B, Ci, H, H, Co, st)
            if config.convBatchNorm {
                Reference.batchNormForward(&s.normed, &s.mean, &s.rstd, s.conv, view(TensorName(.shortcutBN(l), .weight)),
                                           view(TensorName(.shortcutBN(l), .bias)), B, Co, first.outputSize * first.outputSize, eps)
            } else {
                s.normed = s.conv
            }
            return (s.normed, s)
        }

        // Forward.
        var x = images
        var shortcuts: [Int: ConvSave] = [:]  // by the index of the block's second conv
        for (i, spec) in specs.enumerated() {
            var s = convAndNorm(spec, x)
            if case .blockSecond = spec.role {
                let (sc, save) = shortcutForward(specs[i - 1], saves[i - 1].input)
                shortcuts[i] = save
                Reference.reluForward(&s.post, zip(s.normed, sc).map { $0 + $1 })
                x = s.post
            } else {
                Reference.reluForward(&s.post, s.normed)
                x = s.post
            }
            saves[i] = s
        }
        let C = config.featureChannels, HW = specs[specs.count - 1].outputSize * specs[specs.count - 1].outputSize
        var features = x, fMean: [Double] = [], fRstd: [Double] = []
        if config.normalization == .lastLayerOnly {
            Reference.batchNormForward(&features, &fMean, &fRstd, x, view(TensorName(.finalBN, .weight)), view(TensorName(.finalBN, .bias)),
                                       B, C, HW, eps)
        }
        var pooled: [Double] = [], out = Output()
        Reference.poolForward(&pooled, features, B, C, HW)
        let K = config.classes, L = config.linearLayer
        let wl = view(TensorName(.linear(L), .weight))
        Reference.linearForward(&out.logits, pooled, wl, view(TensorName(.linear(L), .bias)), B, C, K)
        var probs: [Double] = []
        out.loss = Reference.crossEntropyForward(&out.losses, &probs, out.logits, labels, B, K)
        Reference.crossEntropyBackward(&out.dlogits, probs, labels, B, K)
        out.convOutputs = saves.map { $0.conv }
        out.postActivations = saves.map { $0.post }
        guard computeGradients else { return out }

        // Backward.
        var g = [Double](repeating: 0, count: layout.count)
        func put(_ tensor: TensorName, _ v: [Double]) {
            guard let e = layout[tensor] else { return }
            for (j, value) in v.enumerated() { g[e.offset + j] += value }
        }
        // ∂L/∂(block input) through the shortcut from dout = ∂L/∂(shortcut output); parameter gradients into `g`.
        func shortcutBackward(_ first: ConvLayerSpec, _ dout: [Double], _ s: ConvSave) -> [Double] {
            let Ci = first.inChannels, H = first.inputSize, Co = first.outChannels, st = first.stride
            var dinp: [Double] = []
            guard isProjection(first) else {
                Reference.shortcutBackward(&dinp, dout, B, Ci, H, H, Co, st, offset: paddingOffset(first))
                return dinp
            }
            let l = first.layer + 1
            var dconv = dout
            if config.convBatchNorm {
                var dg: [Double] = [], db: [Double] = []
                Reference.batchNormBackward(&dconv, &dg, &db, dout, s.conv, view(TensorName(.shortcutBN(l), .weight)), s.mean, s.rstd,
                                            B, Co, first.outputSize * first.outputSize)
                put(TensorName(.shortcutBN(l), .weight), dg); put(TensorName(.shortcutBN(l), .bias), db)
            }
            var dw: [Double] = [], dbias: [Double] = []
            Reference.projectionBackward(&dinp, &dw, &dbias, dconv, s.input, view(TensorName(.shortcut(l), .weight)), B, Ci, H, H, Co, st)
            put(TensorName(.shortcut(l), .weight), dw)
            if config.convBias { put(TensorName(.shortcut(l), .bias), dbias) }
            return dinp
        }

        var dpooled: [Double] = [], dwl: [Double] = [], dbl: [Double] = []
        Reference.linearBackward(&dpooled, &dwl, &dbl, out.dlogits, pooled, wl, B, C, K)
        put(TensorName(.linear(L), .weight), dwl); put(TensorName(.linear(L), .bias), dbl)
        var dfeat: [Double] = []
        Reference.poolBackward(&dfeat, dpooled, B, C, HW)
        var dx = dfeat
        if config.normalization == .lastLayerOnly {
            var dg: [Double] = [], db: [Double] = []
            Reference.batchNormBackward(&dx, &dg, &db, dfeat, x, view(TensorName(.finalBN, .weight)), fMean, fRstd, B, C, HW)
            put(TensorName(.finalBN, .weight), dg); put(TensorName(.finalBN, .bias), db)
        }
        var pendingShortcut: [Int: [Double]] = [:]  // gradient for the input of block-first conv i
        for i in stride(from: specs.count - 1, through: 0, by: -1) {
            let spec = specs[i], s = saves[i]
            var dnormed: [Double] = []
            Reference.reluBackward(&dnormed, dx, s.post)
            if case .blockSecond = spec.role, let save = shortcuts[i] {
                pendingShortcut[i - 1] = shortcutBackward(specs[i - 1], dnormed, save)
            }
            var dconv = dnormed
            if config.convBatchNorm {
                var dg: [Double] = [], db: [Double] = []
                Reference.batchNormBackward(&dconv, &dg, &db, dnormed, s.conv, view(TensorName(.bn(spec.layer), .weight)),
                                            s.mean, s.rstd, B, spec.outChannels, spec.outputSize * spec.outputSize)
                put(TensorName(.bn(spec.layer), .weight), dg); put(TensorName(.bn(spec.layer), .bias), db)
            }
            var dinp: [Double] = [], dw: [Double] = [], dbias: [Double] = []
            Reference.convBackward(&dinp, &dw, &dbias, dconv, s.input, view(TensorName(.conv(spec.layer), .weight)), B,
                                   spec.inChannels, spec.inputSize, spec.inputSize, spec.outChannels, spec.stride)
            put(TensorName(.conv(spec.layer), .weight), dw)
            if config.convBias { put(TensorName(.conv(spec.layer), .bias), dbias) }
            if let sc = pendingShortcut[i] { dinp = zip(dinp, sc).map { $0 + $1 } }
            dx = dinp
        }
        out.gradients = g
        return out
    }
}
