import Datasets
import NN

/// How input images become network inputs.
public enum Preprocessing: String, Codable, Sendable, CaseIterable {
    /// (v/255 − mean[c]) / std[c] per channel (the common PyTorch recipe).
    case channelStandardization
    /// v/255 − the training set's mean image (He et al. 2016: "the per-pixel mean subtracted").
    case pixelMean
}

/// The set-up choices the paper leaves open (paper-notes §1.1), one value: what the calibration scans
/// and what every stage's network and data are built from.
public struct NetworkSetup: Codable, Sendable, Equatable, CustomStringConvertible {
    public var preprocessing: Preprocessing
    public var initialization: Initialization
    public var linearInitialization: Initialization
    public var shortcut: Shortcut
    /// Whether the convs of the nets without BN have a bias (see `ResNetConfig.convBias`).
    public var convBias: Bool
    /// The factor on the conv layers' initial weights (see `ResNetConfig.initGain`).
    public var initGain: Double

    public init(preprocessing: Preprocessing, initialization: Initialization, linearInitialization: Initialization, shortcut: Shortcut,
                convBias: Bool = true, initGain: Double = 1) {
        self.preprocessing = preprocessing
        self.initialization = initialization
        self.linearInitialization = linearInitialization
        self.shortcut = shortcut
        self.convBias = convBias
        self.initGain = initGain
    }

    public var description: String {
        "\(preprocessing.rawValue), conv \(initialization.rawValue), final \(linearInitialization.rawValue), \(shortcut.rawValue)"
            + (initGain == 1 ? "" : ", gain \(initGain)") + (convBias ? "" : ", no conv bias")
    }

    /// How many choices differ from what the paper states: Xavier weights (its text), per-pixel mean
    /// and option A (He et al., "as in [17]"). Breaks ties in the calibration.
    public var distanceFromPaper: Int {
        [preprocessing != .pixelMean, initialization != .xavierNormal, linearInitialization != .xavierNormal, shortcut != .optionA]
            .filter { $0 }.count
    }

    public func config(depth: Int, normalization: Normalization) throws -> ResNetConfig {
        try ResNetConfig(depth: depth, normalization: normalization, initialization: initialization,
                         linearInitialization: linearInitialization, shortcut: shortcut, convBias: convBias, initGain: initGain)
    }
}

/// The decoded data set with what both preprocessings need.
public struct LoadedData {
    public let data: CIFAR10
    public let stats: ChannelStats

    /// The normalisation for `preprocessing`; the mean image is of the whole training split.
    public func input(_ preprocessing: Preprocessing) throws -> InputNormalization {
        switch preprocessing {
        case .channelStandardization: return .channelStandardization(stats)
        case .pixelMean: return try InputNormalization.pixelMean(of: data.train)
        }
    }
}
