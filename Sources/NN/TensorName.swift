/// The name of one tensor of the engine, as checkpoints spell it (`layer55.conv.weight`). Every name is
/// built from this type, so the layout, the engine's lookups, the Float64 reference and the stages
/// cannot spell a tensor two ways: a misspelt owner or part does not compile. (Names read from a file
/// stay strings: `ParameterLayout[String]`.)
public struct TensorName: Hashable, Sendable, CustomStringConvertible {
    /// Whose tensor it is. Layers are numbered as the paper's Fig. 4 numbers them (ParameterLayout.swift).
    public enum Owner: Hashable, Sendable {
        /// Conv layer l (its weight, and its bias in nets without BN).
        case conv(Int)
        /// The BN after conv l.
        case bn(Int)
        /// The linear layer, layer `depth`.
        case linear(Int)
        /// `lastLayerOnly`'s BN over the last block's output.
        case finalBN
        /// Option B's 1×1 shortcut of the transition block whose second conv is l, and its BN.
        case shortcut(Int)
        case shortcutBN(Int)
    }

    public enum Part: String, Hashable, Sendable {
        case weight, bias
        case runningMean = "running_mean", runningVariance = "running_var"
    }

    public let owner: Owner
    public let part: Part

    public init(_ owner: Owner, _ part: Part) {
        self.owner = owner
        self.part = part
    }

    public var description: String {
        let prefix: String
        switch owner {
        case .conv(let l): prefix = "layer\(l).conv"
        case .bn(let l): prefix = "layer\(l).bn"
        case .linear(let l): prefix = "layer\(l).linear"
        case .finalBN: prefix = "final_bn"
        case .shortcut(let l): prefix = "layer\(l).shortcut"
        case .shortcutBN(let l): prefix = "layer\(l).shortcut_bn"
        }
        return "\(prefix).\(part.rawValue)"
    }

    public var isLinear: Bool { if case .linear = owner { return true } else { return false } }

    /// A BN's tensor (its γ is a "weight" without fan-in).
    public var isNormalization: Bool {
        switch owner {
        case .bn, .finalBN, .shortcutBN: return true
        case .conv, .linear, .shortcut: return false
        }
    }
}
