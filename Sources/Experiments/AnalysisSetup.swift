import Datasets
import Foundation
import NN
import Pipeline

/// What every analysis stage shares: the network its params describe, deterministic mini-batches of
/// the decoded training set, and JSON outputs. Keeping it here means every figure's network and data
/// come from the same few lines.
public enum AnalysisSetup {
    /// Parameters that describe a network and its inputs; an analysis kind lists them among its own.
    /// pipeline.json's `defaults` set the open choices once for every stage (the calibration's answer).
    public static let networkParameters = [
        ParameterSpec("depth", .integer, default: 110, help: "ResNet depth 6n+2 (110 in the paper)"),
        ParameterSpec("initialization", .string, default: "heNormal", help: "conv weights: heNormal, xavierNormal or pytorchDefault"),
        ParameterSpec("linearInitialization", .string, default: "asConv",
                      help: "final linear layer: heNormal, xavierNormal, pytorchDefault (with its bias) or asConv"),
        ParameterSpec("shortcut", .string, default: "optionA", help: "stage-transition shortcut: optionA, optionASplit or optionB"),
        ParameterSpec("convBias", .boolean, default: true, help: "whether the convs of the nets without BN have a bias"),
        ParameterSpec("initGain", .number, default: 1.0, help: "factor on the conv layers' initial weights (1: the scheme itself)"),
        ParameterSpec("preprocessing", .string, default: "channelStandardization", help: "inputs: channelStandardization or pixelMean"),
        ParameterSpec("seed", .integer, default: 0, help: "seed of the initial weights and of the batches"),
        ParameterSpec("batchSize", .integer, default: 128, help: "mini-batch size (128 in the paper)"),
    ]

    /// The `normalization` parameter of kinds that study one network.
    public static func normalization(_ context: StageContext) throws -> Normalization {
        try choice(context, "normalization", Normalization.self)
    }

    /// The set-up the params choose.
    public static func setup(_ context: StageContext) throws -> NetworkSetup {
        let conv = try choice(context, "initialization", Initialization.self)
        let linear = try context.string("linearInitialization") == "asConv" ? conv : try choice(context, "linearInitialization", Initialization.self)
        return NetworkSetup(preprocessing: try choice(context, "preprocessing", Preprocessing.self), initialization: conv,
                            linearInitialization: linear, shortcut: try choice(context, "shortcut", Shortcut.self),
                            convBias: try context.bool("convBias"), initGain: try context.double("initGain"))
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ context: StageContext, _ name: String, _ type: T.Type) throws -> T
    where T.RawValue == String {
        let raw = try context.string(name)
        guard let value = T(rawValue: raw) else {
            throw PipelineError.badParameter(stage: context.stage, parameter: name,
                problem: "'\(raw)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// The network of `depth` with or without BN, freshly initialised from `seed` (the params' unless
    /// given), with the params' set-up unless another is given (the calibration tries several).
    public static func network(_ context: StageContext, normalization: Normalization, seed: Int? = nil,
                               setup: NetworkSetup? = nil) throws -> ResNet {
        let config = try (setup ?? self.setup(context)).config(depth: try context.int("depth"), normalization: normalization)
        return try ResNet(config: config, seed: UInt64(try seed ?? context.int("seed")))
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
    public static func input(_ context: StageContext, _ loaded: LoadedData, preprocessing: Preprocessing? = nil) throws -> InputNormalization {
        try loaded.input(try preprocessing ?? setup(context).preprocessing)
    }

    /// Mini-batches as SGD would draw them in the first epoch (shuffled with `seed`, normalised, no
    /// augmentation, so that an analysis sees the images themselves): batch k is the k-th mini-batch.
    public static func batches(_ context: StageContext, _ loaded: LoadedData, preprocessing: Preprocessing? = nil,
                               seed: Int? = nil) throws -> BatchAssembler {
        var options = BatchOptions.training(batchSize: try context.int("batchSize"), seed: UInt64(try seed ?? context.int("seed")))
        options.augment = false
        return try BatchAssembler(source: loaded.data.train, normalization: try input(context, loaded, preprocessing: preprocessing),
                                  options: options)
    }

    /// The first `count` mini-batches of the first epoch (see `batches`); an error if the training set
    /// has fewer full batches, so that every analysed batch has exactly `batchSize` images.
    public static func firstBatches(_ context: StageContext, count: Int, loaded: LoadedData? = nil,
                                    preprocessing: Preprocessing? = nil, seed: Int? = nil) throws -> [ImageBatch] {
        let assembler = try batches(context, try loaded ?? data(context), preprocessing: preprocessing, seed: seed)
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
    public static func constantRateTrainer(_ model: ResNet, learningRate: Double, context: StageContext) throws -> Trainer {
        Trainer(model: model, schedule: LearningRateSchedule(base: Float(learningRate), drops: []),
                momentum: Float(try context.double("momentum")), weightDecay: Float(try context.double("weightDecay")))
    }

    /// The optimiser's parameters, for kinds that take SGD steps.
    public static let optimizerParameters = [
        ParameterSpec("momentum", .number, default: 0.9, help: "SGD momentum (0.9 in the paper)"),
        ParameterSpec("weightDecay", .number, default: 1e-4, help: "L2 weight decay (1e-4 in the paper)"),
    ]
}
