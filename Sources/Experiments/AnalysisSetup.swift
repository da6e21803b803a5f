import Datasets
import Foundation
import NN
import Pipeline

/// What every analysis stage shares: the network its params describe, deterministic mini-batches of
/// the decoded training set, and JSON outputs. Keeping it here means every figure's network and data
/// come from the same few lines.
/// The set-up choices the paper leaves open, as parameters: pipeline.json's `defaults` set them once
/// for every stage (the calibration's answer).
public struct SetupParams: StageParams {
    @Param("conv weights: heNormal, xavierNormal or pytorchDefault") public var initialization = Initialization.heNormal
    @Param("final linear layer: heNormal, xavierNormal, pytorchDefault (with its bias) or asConv")
    public var linearInitialization = LinearInitialization.asConv
    @Param("stage-transition shortcut: optionA, optionASplit or optionB") public var shortcut = Shortcut.optionA
    @Param("whether the convs of the nets without BN have a bias") public var convBias = true
    @Param("factor on the conv layers' initial weights (1: the scheme itself)") public var initGain = 1.0
    @Param("inputs: channelStandardization or pixelMean") public var preprocessing = Preprocessing.channelStandardization

    public init() {}

    /// The set-up these params choose.
    public var networkSetup: NetworkSetup {
        NetworkSetup(preprocessing: preprocessing, initialization: initialization,
                     linearInitialization: linearInitialization.initialization ?? initialization,
                     shortcut: shortcut, convBias: convBias, initGain: initGain)
    }
}

/// The final layer's initialisation: one of the conv schemes, or whatever the convs use.
public enum LinearInitialization: String, CaseIterable, Codable, Sendable, ParamValue {
    case heNormal, xavierNormal, pytorchDefault, asConv

    var initialization: Initialization? { Initialization(rawValue: rawValue) }
}

extension Initialization: ParamValue {}
extension Shortcut: ParamValue {}
extension Preprocessing: ParamValue {}
extension Normalization: ParamValue {}

/// The parameters that describe a network and its inputs; an analysis kind's params hold them as a group.
public struct NetworkParams: StageParams {
    public static let depthHelp = "ResNet depth 6n+2 (110 in the paper)"
    public static let seedHelp = "seed of the initial weights and of the batches"

    @Param(depthHelp) public var depth = 110
    @ParamGroup public var setup = SetupParams()
    @Param(seedHelp) public var seed = 0
    @Param("mini-batch size (128 in the paper)") public var batchSize = 128

    public init() {}
}

/// The optimiser's parameters, for kinds that take SGD steps.
public struct OptimizerParams: StageParams {
    @Param("SGD momentum (0.9 in the paper)") public var momentum = 0.9
    @Param("L2 weight decay (1e-4 in the paper)") public var weightDecay = 1e-4

    public init() {}
}

/// What every analysis stage shares: the network its params describe, deterministic mini-batches of
/// the decoded training set, and JSON outputs. Keeping it here means every figure's network and data
/// come from the same few lines.
public enum AnalysisSetup {
    /// The network of `depth` with or without BN, freshly initialised from `seed` (the params' unless
    /// given), with the params' set-up unless another is given (the calibration tries several).
    public static func network(_ params: NetworkParams, normalization: Normalization, seed: Int? = nil,
                               setup: NetworkSetup? = nil) throws -> ResNet {
        let config = try (setup ?? params.setup.networkSetup).config(depth: params.depth, normalization: normalization)
        return try ResNet(config: config, seed: UInt64(seed ?? params.seed))
    }

    /// The decoded data set from the dependency of kind `cifar10-decode`.
    public static func data(_ context: StageContext) throws -> LoadedData {
        guard let decode = context.inputs(ofKind: "cifar10-decode").first else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps", problem: "needs a cifar10-decode stage among its deps")
        }
        let (data, stats) = try CIFAR10Arrays.load(files: decode.files)
        return LoadedData(data: data, stats: stats)
    }

    /// The params' input normalisation for `loaded`.
    public static func input(_ params: NetworkParams, _ loaded: LoadedData, preprocessing: Preprocessing? = nil) throws -> InputNormalization {
        try loaded.input(preprocessing ?? params.setup.preprocessing)
    }

    /// Mini-batches as SGD would draw them in the first epoch (shuffled with `seed`, normalised, no
    /// augmentation, so that an analysis sees the images themselves): batch k is the k-th mini-batch.
    public static func batches(_ params: NetworkParams, _ loaded: LoadedData, preprocessing: Preprocessing? = nil,
                               seed: Int? = nil) throws -> BatchAssembler {
        var options = BatchOptions.training(batchSize: params.batchSize, seed: UInt64(seed ?? params.seed))
        options.augment = false
        return try BatchAssembler(source: loaded.data.train, normalization: try input(params, loaded, preprocessing: preprocessing),
                                  options: options)
    }

    /// The first `count` mini-batches of the first epoch (see `batches`); an error if the training set
    /// has fewer full batches, so that every analysed batch has exactly `batchSize` images.
    public static func firstBatches(_ context: StageContext, _ params: NetworkParams, count: Int, loaded: LoadedData? = nil,
                                    preprocessing: Preprocessing? = nil, seed: Int? = nil) throws -> [ImageBatch] {
        let assembler = try batches(params, try loaded ?? data(context), preprocessing: preprocessing, seed: seed)
        let full = assembler.indices.count / assembler.options.batchSize
        guard count >= 1, count <= full else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "batches",
                                             problem: "needs 1…\(full) full mini-batches of \(assembler.options.batchSize), got \(count)")
        }
        let order = assembler.order(epoch: 0)
        return (0..<count).map { assembler.batch(epoch: 0, index: $0, order: order) }
    }

    /// SGD as the paper trains (momentum 0.9, weight decay 1e-4 unless the params say otherwise), at a
    /// constant rate: the analyses look at the first steps only, before any drop.
    public static func constantRateTrainer(_ model: ResNet, learningRate: Double, _ optimizer: OptimizerParams) -> Trainer {
        Trainer(model: model, schedule: LearningRateSchedule(base: Float(learningRate), drops: []),
                momentum: Float(optimizer.momentum), weightDecay: Float(optimizer.weightDecay))
    }
}
