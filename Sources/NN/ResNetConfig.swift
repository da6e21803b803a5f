// The CIFAR ResNet of He et al. (2016, §4.2) as a value: depth 6n+2, three stages of n basic blocks
// with 16/32/64 channels on 32/16/8-pixel maps, shortcuts (option A by default), global average pooling,
// one linear layer. Layer numbers follow paper-notes §1.1: 1 = first conv, 2…6n+1 = block convs (block k has
// layers 2k and 2k+1), 6n+2 = the linear layer.

public enum Normalization: String, Codable, Sendable, CaseIterable {
    /// BN after every conv (the standard network).
    case batchNorm
    /// No BN anywhere (the paper's "unnormalized network"); convs have a bias unless `convBias` is off.
    case none
    /// No BN in the body; one BN over the last block's output, before pooling
    /// (paper Appendix E, "BN only at the last layer").
    case lastLayerOnly
}

/// How weights (and, for `pytorchDefault`, biases) start. fan_in = inChannels · k · k (64 for the linear
/// layer, Ci for a 1×1 shortcut conv), fan_out = outChannels · k · k.
public enum Initialization: String, Codable, Sendable, CaseIterable {
    /// He/MSRA normal, std = sqrt(2 / fan_in); biases 0.
    case heNormal
    /// Xavier/Glorot normal, std = sqrt(2 / (fan_in + fan_out)); biases 0.
    case xavierNormal
    /// PyTorch's default for Conv2d and Linear: kaiming_uniform(a = √5), i.e. weights U(±1/√fan_in), and
    /// biases U(±1/√fan_in) with the fan_in of their weight.
    case pytorchDefault

    /// The standard deviation of the initial weights (for `pytorchDefault` that of U(±b): b/√3).
    public func weightStd(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .heNormal: return (2 / Double(fanIn)).squareRoot()
        case .xavierNormal: return (2 / Double(fanIn + fanOut)).squareRoot()
        case .pytorchDefault: return uniformBound(fanIn: fanIn) / Double(3).squareRoot()
        }
    }

    /// 1/√fan_in: the half-width of `pytorchDefault`'s weights and biases.
    public func uniformBound(fanIn: Int) -> Double { 1 / Double(fanIn).squareRoot() }
}

/// The shortcut of the two blocks that change width and resolution (every other block adds its input
/// unchanged). He et al. (2016) §4.2 use option A for CIFAR; ports differ in where the zeros go.
public enum Shortcut: String, Codable, Sendable, CaseIterable {
    /// The input subsampled by 2 in the first Ci channels, zeros in the Co − Ci after (He et al.'s code).
    case optionA
    /// The same zero padding split evenly: the input channels at offset (Co − Ci)/2 (the common PyTorch
    /// port: `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, Co/4, Co/4))`).
    case optionASplit
    /// A 1×1 convolution with stride 2 (projection); in the BN net without bias and followed by its own BN,
    /// in the nets without BN with a bias. Parameters `layer{l}.shortcut.*`, l = the block's second conv.
    case optionB
}

public enum ResNetError: Error, CustomStringConvertible {
    case invalidDepth(Int)
    case noSuchLayer(Int, depth: Int)
    case notAConvLayer(Int)
    case badBatch(String)
    case notCaptured(String)
    /// Tensors of the layout the engine's lookups never found: a name spelt differently in the layout and
    /// in the engine (a bug, not bad input).
    case unreadTensors([String])

    public var description: String {
        switch self {
        case .invalidDepth(let d): return "ResNet depth \(d) is not of the form 6n+2 with n ≥ 1 (try 8, 20, 56, 110)"
        case .noSuchLayer(let l, let d): return "layer \(l) does not exist in ResNet-\(d) (layers are 1…\(d))"
        case .notAConvLayer(let l): return "layer \(l) is the linear layer, not a convolution"
        case .badBatch(let why): return "bad batch: \(why)"
        case .notCaptured(let what): return "\(what) was not captured; request it in the forward/backward options"
        case .unreadTensors(let names):
            return "the engine reads no offset for \(names.joined(separator: ", ")) of the parameter layout: a tensor name differs between ParameterLayout and ResNet"
        }
    }
}

public struct ResNetConfig: Codable, Equatable, Sendable {
    public var depth: Int
    public var normalization: Normalization
    /// The conv layers' initialisation (also the 1×1 shortcut convs of option B).
    public var initialization: Initialization
    /// The final linear layer's initialisation (by default the conv layers').
    public var linearInitialization: Initialization
    /// The shortcut of the two transition blocks (`transitionBlocks`).
    public var shortcut: Shortcut
    /// Whether the convolutions that no BN follows (every conv of the nets without BN in the body, and
    /// option B's projections there) have a bias. A conv followed by BN never has one: BN's β takes its place.
    public var convBias: Bool
    /// A factor on the conv layers' initial weights (the std of the normal schemes, the bound of
    /// `pytorchDefault`), not on the final layer's: 1 is the scheme itself. A smaller gain starts the
    /// unnormalised network cooler, as a hypothesis the paper's numbers decide (README, Fig. 3).
    public var initGain: Double
    public var classes: Int
    public var imageSize: Int
    public var widths: [Int]
    public var bnEpsilon: Float
    /// Running statistics update: r ← (1 − m)·r + m·batch (PyTorch convention; unbiased batch variance).
    public var bnMomentum: Float

    public init(depth: Int, normalization: Normalization, initialization: Initialization = .heNormal,
                linearInitialization: Initialization? = nil, shortcut: Shortcut = .optionA, convBias: Bool = true,
                initGain: Double = 1, classes: Int = 10, imageSize: Int = 32, widths: [Int] = [16, 32, 64],
                bnEpsilon: Float = 1e-5, bnMomentum: Float = 0.1) throws {
        guard depth >= 8, (depth - 2) % 6 == 0 else { throw ResNetError.invalidDepth(depth) }
        self.depth = depth
        self.normalization = normalization
        self.initialization = initialization
        self.linearInitialization = linearInitialization ?? initialization
        self.shortcut = shortcut
        self.convBias = convBias && normalization != .batchNorm
        self.initGain = initGain
        self.classes = classes
        self.imageSize = imageSize
        self.widths = widths
        self.bnEpsilon = bnEpsilon
        self.bnMomentum = bnMomentum
    }

    public var blocksPerStage: Int { (depth - 2) / 6 }
    public var convBatchNorm: Bool { normalization == .batchNorm }
    public var linearLayer: Int { depth }
    public var featureChannels: Int { widths[2] }

    /// Every convolution, in forward order; `convLayers[l - 1]` is layer l.
    public var convLayers: [ConvLayerSpec] {
        var specs = [ConvLayerSpec(layer: 1, inChannels: 3, outChannels: widths[0], stride: 1,
                                   inputSize: imageSize, role: .stem)]
        var size = imageSize, channels = widths[0], block = 0
        for stage in 0..<3 {
            for i in 0..<blocksPerStage {
                block += 1
                let stride = (stage > 0 && i == 0) ? 2 : 1
                let out = widths[stage]
                specs.append(ConvLayerSpec(layer: 2 * block, inChannels: channels, outChannels: out, stride: stride,
                                           inputSize: size, role: .blockFirst(block: block)))
                size /= stride
                specs.append(ConvLayerSpec(layer: 2 * block + 1, inChannels: out, outChannels: out, stride: 1,
                                           inputSize: size, role: .blockSecond(block: block)))
                channels = out
            }
        }
        return specs
    }

    public var blockCount: Int { 3 * blocksPerStage }

    /// The conv layers that are the first conv of a block whose shortcut changes shape (stride 2, more
    /// channels): the two stage transitions.
    public var transitionBlocks: [ConvLayerSpec] {
        convLayers.filter { spec in
            guard case .blockFirst = spec.role else { return false }
            return spec.stride != 1 || spec.inChannels != spec.outChannels
        }
    }
}

// Checkpoints store the configuration as JSON: fields added after the first checkpoints were written
// decode with the values that reproduce the old behaviour when absent.
extension ResNetConfig {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        depth = try c.decode(Int.self, forKey: .depth)
        normalization = try c.decode(Normalization.self, forKey: .normalization)
        initialization = try c.decode(Initialization.self, forKey: .initialization)
        linearInitialization = try c.decodeIfPresent(Initialization.self, forKey: .linearInitialization) ?? initialization
        shortcut = try c.decodeIfPresent(Shortcut.self, forKey: .shortcut) ?? .optionA
        convBias = try c.decodeIfPresent(Bool.self, forKey: .convBias) ?? (normalization != .batchNorm)
        initGain = try c.decodeIfPresent(Double.self, forKey: .initGain) ?? 1
        classes = try c.decode(Int.self, forKey: .classes)
        imageSize = try c.decode(Int.self, forKey: .imageSize)
        widths = try c.decode([Int].self, forKey: .widths)
        bnEpsilon = try c.decode(Float.self, forKey: .bnEpsilon)
        bnMomentum = try c.decode(Float.self, forKey: .bnMomentum)
    }
}

public struct ConvLayerSpec: Equatable, Sendable {
    public enum Role: Equatable, Sendable {
        case stem
        case blockFirst(block: Int)
        case blockSecond(block: Int)
    }
    public let layer: Int
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int
    public let inputSize: Int
    public let role: Role
    public var outputSize: Int { inputSize / stride }
    public var weightCount: Int { outChannels * inChannels * 9 }
}
