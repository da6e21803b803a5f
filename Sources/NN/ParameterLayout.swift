import Tensor

// Where each named tensor lives in the flat parameter vector (and in the flat running-statistics
// vector). The names are the checkpoint's tensor names:
//   layer{l}.conv.weight  [out, in, 3, 3]   (OIHW, as PyTorch)      layer{l}.conv.bias [out]   (no-BN nets)
//   layer{l}.bn.weight / .bias  [out]        (γ, β of the BN after conv l)
//   final_bn.weight / .bias [64]             (lastLayerOnly: the BN over the last block's output)
//   layer{6n+2}.linear.weight [classes, 64]  layer{6n+2}.linear.bias [classes]
// Option-B shortcuts only, after everything above (so the other tensors keep their offsets), for the two
// transition blocks, l = the block's second conv:
//   layer{l}.shortcut.weight [Co, Ci, 1, 1]   layer{l}.shortcut.bias [Co] (no-BN nets)
//   layer{l}.shortcut_bn.weight / .bias [Co]  (BN net)
// Running statistics: layer{l}.bn.running_mean / .running_var, final_bn.running_mean / .running_var,
// then layer{l}.shortcut_bn.running_mean / .running_var (option B, BN net).

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

/// The engine's lookups of tensor offsets by name: −1 for a tensor this configuration does not have (the
/// passes read −1 as "no bias", "no BN"). It remembers which tensors were found, so that a misspelt name,
/// which would look like an absent tensor, shows as a tensor of the layout that nothing reads (`unread`).
final class OffsetLookup {
    private let layout: ParameterLayout
    private var found = Set<String>()

    init(_ layout: ParameterLayout) { self.layout = layout }

    func offset(_ name: String) -> Int {
        let o = layout.offset(name)
        if o >= 0 { found.insert(name) }
        return o
    }

    /// The layout's tensors no lookup found, in layout order.
    var unread: [String] { layout.entries.map(\.name).filter { !found.contains($0) } }
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
        if shortcut == .optionB {
            for first in transitionBlocks {
                let l = first.layer + 1
                p.add("layer\(l).shortcut.weight", [first.outChannels, first.inChannels, 1, 1])
                if convBias { p.add("layer\(l).shortcut.bias", [first.outChannels]) }
                if convBatchNorm {
                    p.add("layer\(l).shortcut_bn.weight", [first.outChannels])
                    p.add("layer\(l).shortcut_bn.bias", [first.outChannels])
                }
            }
        }
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
        if shortcut == .optionB && convBatchNorm {
            for first in transitionBlocks {
                p.add("layer\(first.layer + 1).shortcut_bn.running_mean", [first.outChannels])
                p.add("layer\(first.layer + 1).shortcut_bn.running_var", [first.outChannels])
            }
        }
        return p
    }

    /// Initial parameters: weights from the chosen scheme (each tensor from its own Philox sub-stream,
    /// keyed by its index in the layout), γ = 1, β = 0, conv and linear biases 0 or, for `pytorchDefault`,
    /// U(±1/√fan_in) from their own sub-stream. (He and Xavier draw exactly what they drew before the
    /// other options existed.)
    public func initialParameters(seed: UInt64) -> [Float] {
        let layout = parameterLayout
        var p = [Float](repeating: 0, count: layout.count)
        let rng = Philox(seed: seed)
        for (i, e) in layout.entries.enumerated() {
            let stream = rng.substream(UInt64(i))
            if e.name.hasSuffix(".weight") && e.shape.count >= 2 {
                let fanIn = e.shape.dropFirst().reduce(1, *)
                let fanOut = e.shape[0] * e.shape.dropFirst(2).reduce(1, *)
                let scheme = initialization(of: e.name)
                // Gain 1 multiplies by nothing, so the draws keep their bits from before the gain existed.
                let gain: Float? = initGain == 1 || isLinear(e.name) ? nil : Float(initGain)
                if scheme == .pytorchDefault {
                    let b = Float(scheme.uniformBound(fanIn: fanIn)) * (gain ?? 1)
                    p.replaceSubrange(e.range, with: stream.uniform(count: e.count, low: -b, high: b))
                } else {
                    // Float arithmetic as before, not weightStd's Double: the same bits as earlier runs.
                    let std: Float = scheme == .heNormal
                        ? (2.0 / Float(fanIn)).squareRoot() : (2.0 / Float(fanIn + fanOut)).squareRoot()
                    p.replaceSubrange(e.range, with: stream.normal(count: e.count, std: std * (gain ?? 1)))
                }
            } else if e.name.hasSuffix("bn.weight") {
                p.replaceSubrange(e.range, with: [Float](repeating: 1, count: e.count))
            } else if e.name.hasSuffix(".bias"), let w = layout[String(e.name.dropLast(5)) + ".weight"],
                      w.shape.count >= 2, initialization(of: e.name) == .pytorchDefault {
                // A conv or linear bias (BN's β has a 1-D "weight" γ and stays 0).
                let b = Float(Initialization.pytorchDefault.uniformBound(fanIn: w.shape.dropFirst().reduce(1, *)))
                p.replaceSubrange(e.range, with: stream.uniform(count: e.count, low: -b, high: b))
            }
        }
        return p
    }

    /// The scheme for a tensor: the linear layer's own choice, the conv layers' for everything else.
    func initialization(of name: String) -> Initialization {
        isLinear(name) ? linearInitialization : initialization
    }

    func isLinear(_ name: String) -> Bool { name.hasPrefix("layer\(linearLayer).linear.") }

    public func initialRunningStats() -> [Float] {
        let layout = runningStatsLayout
        var r = [Float](repeating: 0, count: layout.count)
        for e in layout.entries where e.name.hasSuffix("running_var") {
            r.replaceSubrange(e.range, with: [Float](repeating: 1, count: e.count))
        }
        return r
    }
}
