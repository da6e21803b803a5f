import Tensor

// Where each named tensor lives in the flat parameter vector (and in the flat running-statistics
// vector). The names are the checkpoint's tensor names:
//   layer{l}.conv.weight  [out, in, 3, 3]   (OIHW, as PyTorch)      layer{l}.conv.bias [out]   (no-BN nets)
//   layer{l}.bn.weight / .bias  [out]        (γ, β of the BN after conv l)
//   final_bn.weight / .bias [64]             (lastLayerOnly: the BN over the last block's output)
//   layer{6n+2}.linear.weight [classes, 64]  layer{6n+2}.linear.bias [classes]
// Running statistics: layer{l}.bn.running_mean / .running_var, final_bn.running_mean / .running_var.

public struct ParameterEntry: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

public struct ParameterLayout: Sendable {
    public private(set) var entries: [ParameterEntry] = []
    public private(set) var count = 0
    private var index: [String: Int] = [:]

    mutating func add(_ name: String, _ shape: [Int]) {
        index[name] = entries.count
        entries.append(ParameterEntry(name: name, shape: shape, offset: count))
        count += shape.reduce(1, *)
    }

    public subscript(_ name: String) -> ParameterEntry? { index[name].map { entries[$0] } }

    func offset(_ name: String) -> Int { index[name].map { entries[$0].offset } ?? -1 }
}

extension ResNetConfig {
    public var parameterLayout: ParameterLayout {
        var p = ParameterLayout()
        for spec in convLayers {
            p.add("layer\(spec.layer).conv.weight", [spec.outChannels, spec.inChannels, 3, 3])
            if convBias { p.add("layer\(spec.layer).conv.bias", [spec.outChannels]) }
            if convBatchNorm {
                p.add("layer\(spec.layer).bn.weight", [spec.outChannels])
                p.add("layer\(spec.layer).bn.bias", [spec.outChannels])
            }
        }
        if normalization == .lastLayerOnly {
            p.add("final_bn.weight", [featureChannels])
            p.add("final_bn.bias", [featureChannels])
        }
        p.add("layer\(linearLayer).linear.weight", [classes, featureChannels])
        p.add("layer\(linearLayer).linear.bias", [classes])
        return p
    }

    public var runningStatsLayout: ParameterLayout {
        var p = ParameterLayout()
        if convBatchNorm {
            for spec in convLayers {
                p.add("layer\(spec.layer).bn.running_mean", [spec.outChannels])
                p.add("layer\(spec.layer).bn.running_var", [spec.outChannels])
            }
        }
        if normalization == .lastLayerOnly {
            p.add("final_bn.running_mean", [featureChannels])
            p.add("final_bn.running_var", [featureChannels])
        }
        return p
    }

    /// Initial parameters: weights from the chosen scheme (each tensor from its own Philox sub-stream,
    /// keyed by its index in the layout), biases 0, γ = 1, β = 0.
    public func initialParameters(seed: UInt64) -> [Float] {
        let layout = parameterLayout
        var p = [Float](repeating: 0, count: layout.count)
        let rng = Philox(seed: seed)
        for (i, e) in layout.entries.enumerated() {
            if e.name.hasSuffix(".weight") && e.shape.count >= 2 {
                let fanIn = e.shape.dropFirst().reduce(1, *)
                let fanOut = e.shape[0] * e.shape.dropFirst(2).reduce(1, *)
                let std: Float = initialization == .heNormal
                    ? (2.0 / Float(fanIn)).squareRoot() : (2.0 / Float(fanIn + fanOut)).squareRoot()
                let w = rng.substream(UInt64(i)).normal(count: e.count, std: std)
                p.replaceSubrange(e.range, with: w)
            } else if e.name.hasSuffix("bn.weight") {
                p.replaceSubrange(e.range, with: [Float](repeating: 1, count: e.count))
            }
        }
        return p
    }

    public func initialRunningStats() -> [Float] {
        let layout = runningStatsLayout
        var r = [Float](repeating: 0, count: layout.count)
        for e in layout.entries where e.name.hasSuffix("running_var") {
            r.replaceSubrange(e.range, with: [Float](repeating: 1, count: e.count))
        }
        return r
    }
}
