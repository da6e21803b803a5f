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
    public let tensor: TensorName
    /// The checkpoint's spelling of `tensor`.
    public var name: String { tensor.description }
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

public struct ParameterLayout: Sendable {
    public private(set) var entries: [ParameterEntry] = []
    public private(set) var count = 0
    private var index: [String: Int] = [:]

    mutating func add(_ tensor: TensorName, _ shape: [Int]) {
        index[tensor.description] = entries.count
        entries.append(ParameterEntry(tensor: tensor, shape: shape, offset: count))
        count += shape.reduce(1, *)
    }

    /// A tensor by its checkpoint name (as read from a file).
    public subscript(_ name: String) -> ParameterEntry? { index[name].map { entries[$0] } }
    public subscript(_ tensor: TensorName) -> ParameterEntry? { self[tensor.description] }

    func offset(_ tensor: TensorName) -> Int { self[tensor]?.offset ?? -1 }
}

/// The engine's lookups of tensor offsets by name: −1 for a tensor this configuration does not have (the
/// passes read −1 as "no bias", "no BN"). It remembers which tensors were found, so that a misspelt name,
/// which would look like an absent tensor, shows as a tensor of the layout that nothing reads (`unread`).
final class OffsetLookup {
    private let layout: ParameterLayout
    private var found = Set<TensorName>()

    init(_ layout: ParameterLayout) { self.layout = layout }

    func offset(_ tensor: TensorName) -> Int {
        let o = layout.offset(tensor)
        if o >= 0 { found.insert(tensor) }
        return o
    }

    /// The layout's tensors no lookup found, in layout order.
    var unread: [String] { layout.entries.filter { !found.contains($0.tensor) }.map(\.name) }
}

extension ResNetConfig {
    public var parameterLayout: ParameterLayout {
        var p = ParameterLayout()
        for spec in convLayers {
            p.add(TensorName(.conv(spec.layer), .weight), [spec.outChannels, spec.inChannels, 3, 3])
            if convBias { p.add(TensorName(.conv(spec.layer), .bias), [spec.outChannels]) }
            if convBatchNorm {
                p.add(TensorName(.bn(spec.layer), .weight), [spec.outChannels])
                p.add(TensorName(.bn(spec.layer), .bias), [spec.outChannels])
            }
        }
        if normalization == .lastLayerOnly {
            p.add(TensorName(.finalBN, .weight), [featureChannels])
            p.add(TensorName(.finalBN, .bias), [featureChannels])
        }
        p.add(TensorName(.linear(linearLayer), .weight), [classes, featureChannels])
        p.add(TensorName(.linear(linearLayer), .bias), [classes])
        if shortcut == .optionB {
            for first in transitionBlocks {
                let l = first.layer + 1
                p.add(TensorName(.shortcut(l), .weight), [first.outChannels, first.inChannels, 1, 1])
                if convBias { p.add(TensorName(.shortcut(l), .bias), [first.outChannels]) }
                if convBatchNorm {
                    p.add(TensorName(.shortcutBN(l), .weight), [first.outChannels])
                    p.add(TensorName(.shortcutBN(l), .bias), [first.outChannels])
                }
            }
        }
        return p
    }

    public var runningStatsLayout: ParameterLayout {
        var p = ParameterLayout()
        if convBatchNorm {
            for spec in convLayers {
                p.add(TensorName(.bn(spec.layer), .runningMean), [spec.outChannels])
                p.add(TensorName(.bn(spec.layer), .runningVariance), [spec.outChannels])
            }
        }
        if normalization == .lastLayerOnly {
            p.add(TensorName(.finalBN, .runningMean), [featureChannels])
            p.add(TensorName(.finalBN, .runningVariance), [featureChannels])
        }
        if shortcut == .optionB && convBatchNorm {
            for first in transitionBlocks {
                p.add(TensorName(.shortcutBN(first.layer + 1), .runningMean), [first.outChannels])
                p.add(TensorName(.shortcutBN(first.layer + 1), .runningVariance), [first.outChannels])
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
            if e.tensor.part == .weight && e.shape.count >= 2 {
                let fanIn = e.shape.dropFirst().reduce(1, *)
                let fanOut = e.shape[0] * e.shape.dropFirst(2).reduce(1, *)
                let scheme = initialization(of: e.tensor)
                // Gain 1 multiplies by nothing, so the draws keep their bits from before the gain existed.
                let gain: Float? = initGain == 1 || e.tensor.isLinear ? nil : Float(initGain)
                if scheme == .pytorchDefault {
                    let b = Float(scheme.uniformBound(fanIn: fanIn)) * (gain ?? 1)
                    p.replaceSubrange(e.range, with: stream.uniform(count: e.count, low: -b, high: b))
                } else {
                    // Float arithmetic as before, not weightStd's Double: the same bits as earlier runs.
                    let std: Float = scheme == .heNormal
                        ? (2.0 / Float(fanIn)).squareRoot() : (2.0 / Float(fanIn + fanOut)).squareRoot()
                    p.replaceSubrange(e.range, with: stream.normal(count: e.count, std: std * (gain ?? 1)))
                }
            } else if e.tensor.part == .weight, e.tensor.isNormalization {
                p.replaceSubrange(e.range, with: [Float](repeating: 1, count: e.count))
            } else if e.tensor.part == .bias, let w = layout[TensorName(e.tensor.owner, .weight)],
                      w.shape.count >= 2, initialization(of: e.tensor) == .pytorchDefault {
                // A conv or linear bias (BN's β has a 1-D "weight" γ and stays 0).
                let b = Float(Initialization.pytorchDefault.uniformBound(fanIn: w.shape.dropFirst().reduce(1, *)))
                p.replaceSubrange(e.range, with: stream.uniform(count: e.count, low: -b, high: b))
            }
        }
        return p
    }

    /// The scheme for a tensor: the linear layer's own choice, the conv layers' for everything else.
    func initialization(of tensor: TensorName) -> Initialization {
        tensor.isLinear ? linearInitialization : initialization
    }

    public func initialRunningStats() -> [Float] {
        let layout = runningStatsLayout
        var r = [Float](repeating: 0, count: layout.count)
        for e in layout.entries where e.tensor.part == .runningVariance {
            r.replaceSubrange(e.range, with: [Float](repeating: 1, count: e.count))
        }
        return r
    }
}
