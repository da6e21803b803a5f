import Datasets
import Foundation
import NN
import Pipeline

/// `calibration`: the paper leaves its set-up partly open (paper-notes §1.1): input preprocessing, the
/// conv and final-layer initialisation, the shortcut at the stage transitions. Each choice moves the
/// scales every analysis at initialisation reads by large factors. This stage runs the network at
/// initialisation, with and without BN, on the first `batches` mini-batches of the first epoch for every
/// combination, measures what Figs. 2, 5 and 6 and the §4 text read, and scores each combination
/// against the paper's numbers (`PaperNumbers`). One combination serves both networks.
///
/// The score is a sum of four terms, each weighted 1, each in its own natural unit (stated in the
/// table's header):
/// - Fig. 5: root-mean-square distance of our 40 points (4 series × 10 layers) to the paper's, in the
///   log base that fits this variant better (the paper does not name its base);
/// - Fig. 2: |log₁₀(std ratio / 100)| + |log₁₀(BN std / 0.013)|;
/// - Fig. 6: |p̄(no BN) − 1| + |share of the modal class (no BN) − 1| + |p̄(BN) − 0.5|, p̄ the mean
///   largest softmax probability;
/// - logit scale: |log₁₀(max |logit| without BN / 10²)| (§4: "outputs of scale up to 10²").
/// Lower is better. Scores within 5 % of the best are a tie, broken by what the paper states (Xavier for
/// the weights, by its text; He et al. for the rest: per-pixel mean subtraction, option A).
///
/// Outputs: `calibration.json` (every variant's measurements and scores, the best), `calibration.md`
/// (published to tables/), `claims.json` (whether the pipeline's set-up is the best-scoring one).
public struct CalibrationStage: AnalysisKind, ParameterizedKind {
    public typealias Result = CalibrationResult
    public static let kindName = "calibration"
    public static let tableFile = "calibration.md"
    /// 2: `seconds` left the result (the action record keeps the time). 3: the gain refinement and the training term.
    /// 4: the training term reaches every row that could still be chosen (`trainingTerm` replaces `trainingRows`).
    public let version = 4
    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @Param("mini-batches of 128 measured per variant (pooled)") public var batches = 1
        @Param("Fig. 2's layer") public var gradientLayer = 55
        @Param("input preprocessings to try") public var preprocessings: [Preprocessing] = [.channelStandardization, .pixelMean]
        @Param("conv initialisations to try") public var convInitializations: [Initialization] = [.xavierNormal, .heNormal, .pytorchDefault]
        @Param("final-layer initialisations to try")
        public var linearInitializations: [Initialization] = [.xavierNormal, .heNormal, .pytorchDefault]
        @Param("stage-transition shortcuts to try") public var shortcuts: [Shortcut] = [.optionA, .optionASplit, .optionB]
        @Param("the pipeline's Fig. 5 log base, checked against the best variant's") public var logBase = LogBase.ten
        @Param("conv initialisation gains also scored on the best `refineRows` set-ups of the scan (at gain 1)")
        public var refineGains = [0.95, 0.9, 0.85]
        @Param("set-ups of the scan refined with `refineGains`") public var refineRows = 3
        @Param("train rows in static-score order until no row left untrained could be chosen (false: static score only)")
        public var trainingTerm = true
        @Param("the unnormalised net's rate in the training term (paper: 1e-4)") public var trainingLr = 1e-4
        @ParamGroup public var optimizer = OptimizerParams()

        public init() {}
    }

    public init() {}

    public func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws {
        for (name, count) in [("preprocessings", params.preprocessings.count), ("convInitializations", params.convInitializations.count),
                              ("linearInitializations", params.linearInitializations.count), ("shortcuts", params.shortcuts.count)]
        where count == 0 {
            throw PipelineError.badParameter(stage: stage, parameter: name, problem: "needs a non-empty array of names")
        }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let grid = SetupGrid(params)
        let count = params.batches, layer = params.gradientLayer
        let loaded = try AnalysisSetup.data(context)
        var variants: [CalibrationVariant] = []
        var batchesByPreprocessing: [Preprocessing: [ImageBatch]] = [:]
        for preprocessing in grid.preprocessings {
            batchesByPreprocessing[preprocessing] = try AnalysisSetup.firstBatches(context, params.network, count: max(count, 7), loaded: loaded,
                                                                                   preprocessing: preprocessing)
        }
        func score(_ setup: NetworkSetup, total: Int) throws {
            let batches = Array(batchesByPreprocessing[setup.preprocessing, default: []].prefix(count))
            var measured: [String: CalibrationMeasurement] = [:]
            for variant in NetworkVariant.both {
                let net = try AnalysisSetup.network(params.network, normalization: variant.normalization, setup: setup)
                measured[variant.key] = try CalibrationMeasurement(net, batches: batches, gradientLayer: layer)
            }
            guard let bn = measured["bn"], let noBN = measured["nobn"] else { return }
            let v = CalibrationVariant(setup: setup, bn: bn, noBN: noBN)
            variants.append(v)
            print(String(format: "%@: score %.3f (Fig. 5 %.3f in log%@, Fig. 2 %.3f, Fig. 6 %.3f, logits %.3f); loss %.3g / %.3g",
                         setup.description, v.score.total, v.score.fig5, v.score.fig5Base.rawValue, v.score.fig2, v.score.fig6,
                         v.score.logits, bn.loss, noBN.loss))
            context.progress("\(variants.count)/\(total) variants (static)", fraction: 0.6 * Double(variants.count) / Double(total))
        }
        let gains = params.refineGains, refineRows = params.refineRows
        let total = grid.setups.count + min(refineRows, grid.setups.count) * gains.count
        for setup in grid.setups { try score(setup, total: total) }
        // The gain refines the best set-ups of the scan rather than multiplying the whole grid.
        let scanned = variants.sorted { $0.score.total < $1.score.total }.prefix(refineRows).map(\.setup)
        for setup in scanned {
            for gain in gains where gain != setup.initGain {
                var refined = setup
                refined.initGain = gain
                try score(refined, total: total)
            }
        }
        try Self.addTrainingTerm(&variants, params: params, context: context, batches: batchesByPreprocessing)
        guard !variants.isEmpty else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "preprocessings", problem: "the grid is empty")
        }
        let best = CalibrationVariant.choose(variants)
        let configured = params.network.setup.networkSetup
        let result = CalibrationResult(depth: params.network.depth, batches: count, batchSize: params.network.batchSize,
                                       variants: variants, best: best, configured: configured, configuredLogBase: params.logBase)
        try Data(result.markdown.utf8).write(to: context.output(Self.tableFile), options: .atomic)
        try context.write(result, of: Self.self, claims: result.claims)
        print("best: \(variants[best].setup.description); the pipeline's set-up: \(configured.description)")
    }
}

extension CalibrationStage {
    /// The training term (see `CalibrationTraining`) on every row that could still be chosen once it has
    /// its term: rows in static order, until `CalibrationVariant.rowsToTrain` proves the rest out of reach.
    static func addTrainingTerm(_ variants: inout [CalibrationVariant], params: Params, context: StageContext,
                                batches: [Preprocessing: [ImageBatch]]) throws {
        guard params.trainingTerm else { return }
        let lr = params.trainingLr
        let momentum = Float(params.optimizer.momentum), decay = Float(params.optimizer.weightDecay)
        let statics = variants.map(\.score.total)
        var n = 0
        try CalibrationVariant.rowsToTrain(statics: statics) { i in
            n += 1
            let setup = variants[i].setup
            let net = try AnalysisSetup.network(params.network, normalization: .none, setup: setup)
            let t = try CalibrationTraining(net, batches: batches[setup.preprocessing, default: []], probes: [4, 7], learningRate: lr,
                                            momentum: momentum, weightDecay: decay)
            variants[i].training = t
            print(String(format: "%@: training term %.3f (r > 10⁶ from s = %@; |g| %.3g → %.3g, logit spread %.3g → %.3g)",
                         setup.description, t.term, t.explosionSteps.map { $0.map { String(format: "%.2g", $0) } ?? "none" }.joined(separator: ", "),
                         t.initialGradientNorm, t.gradientNorms.last ?? Double.nan, t.initialLogitSpread, t.logitSpreads.last ?? Double.nan))
            // The number of rows the bound will reach is unknown; the static order's worst case is the grid.
            context.progress("training term \(n) (bound not yet reached)", fraction: 0.6 + 0.4 * Double(n) / Double(statics.count))
            return variants[i].total
        }
    }
}

/// The combinations the params ask for.
struct SetupGrid {
    let preprocessings: [Preprocessing]
    let setups: [NetworkSetup]

    init(_ params: CalibrationStage.Params) {
        preprocessings = params.preprocessings
        let convs = params.convInitializations, linears = params.linearInitializations, shortcuts = params.shortcuts
        // Biases start at 0 except under PyTorch's default init, so the scan keeps the configured choice;
        // the relative-loss stage's steps are where it can show (README, "Open choices").
        let convBias = params.network.setup.convBias, gain = params.network.setup.initGain
        var all: [NetworkSetup] = []
        for p in preprocessings { for c in convs { for l in linears { for s in shortcuts {
            all.append(NetworkSetup(preprocessing: p, initialization: c, linearInitialization: l, shortcut: s, convBias: convBias, initGain: gain))
        } } } }
        setups = all
    }
}
