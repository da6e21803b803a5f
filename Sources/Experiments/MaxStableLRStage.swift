import Datasets
import Foundation
import NN
import Pipeline

/// `max-stable-lr`: the largest learning rate at which a network trains, by the paper's own rule for
/// its small rate ("picked such that the network without BN converges", paper-notes §4 Fig. 1).
///
/// A rate *trains* when, for every seed, a short run neither diverges (a mini-batch loss above
/// `threshold`, or not finite) nor stays near chance: its training accuracy over the last epoch is at
/// least `minTrainAccuracy` (twice chance by default). A net that sits at chance with a loss below 10³
/// has not trained. The search walks `grid` from its largest rate down to the first rate that trains
/// (a too-large rate diverges within a few steps, so the walk is cheap, and a short run cannot tell a
/// too-small rate from a failing one, so it never needs to), then bisects in log space between that
/// rate and the one above it until they are within `factor`. Every trial of a seed sees the same images
/// in the same order, so rates differ only in the rate.
///
/// Outputs: `max-stable-lr.json` (the rate, every trial), `claims.json` (none: Fig. 1 uses the rate).
public struct MaxStableLRStage: AnalysisKind, ParameterizedKind {
    public static let kindName = "max-stable-lr"
    /// 2: `seconds` left the result (the action record keeps the time).
    public let version = 2
    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @ParamGroup public var optimizer = OptimizerParams()
        @Param("none, batchNorm or lastLayerOnly") public var normalization = Normalization.none
        @Param("ascending rates, walked from the top, that bracket the answer") public var grid = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
        @Param("bisect until the bracket's ratio is at most this") public var factor = 1.25
        @Param("seeds of the initial weights and data order; a rate must train with each") public var seeds = [0, 1]
        @Param("epochs of each trial") public var epochs = 3
        @Param("training images per class (stratified subset)") public var trainPerClass = 500
        @Param("training accuracy over the last epoch that counts as trained (2× chance)") public var minTrainAccuracy = 0.2
        @Param(TrainStage.thresholdHelp) public var threshold = 1e3

        public init() {}
    }

    public func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws {
        let grid = params.grid
        guard !grid.isEmpty, grid.allSatisfy({ $0 > 0 }), zip(grid, grid.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw PipelineError.badParameter(stage: stage, parameter: "grid", problem: "needs ascending positive rates, got \(grid)")
        }
        guard params.factor > 1 else { throw PipelineError.badParameter(stage: stage, parameter: "factor", problem: "must exceed 1") }
        guard !params.seeds.isEmpty else { throw PipelineError.badParameter(stage: stage, parameter: "seeds", problem: "needs a seed") }
        guard params.epochs >= 1 else { throw PipelineError.badParameter(stage: stage, parameter: "epochs", problem: "must be positive") }
    }

    public init() {}

    public struct Trial: Codable, Sendable {
        public let lr: Double
        public let seed: Int
        public let diverged: Bool
        public let divergenceStep: Int?
        /// Over the last epoch's mini-batches, as SGD saw them (0 for a diverged run).
        public let lastEpochTrainAccuracy: Double
        public let lastEpochLoss: Double
        public let trains: Bool
    }

    public struct Result: Codable, Sendable {
        public let normalization: Normalization
        public let depth: Int
        /// The largest rate found to train, or nil when none of the grid trains.
        public let largestStableLr: Double?
        /// The smallest rate found not to train above it, or nil when every rate of the grid trains.
        public let smallestFailingLr: Double?
        public let trials: [Trial]
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let normalization = params.normalization, grid = params.grid, factor = params.factor, seeds = params.seeds
        let trial = try TrialRunner(context, params)
        var trials: [Trial] = []
        func trains(_ lr: Double) throws -> Bool {
            var all = true
            for seed in seeds {
                let t = try trial.run(lr: lr, seed: seed)
                trials.append(t)
                print(String(format: "lr %.4g seed %d: %@, last-epoch train accuracy %.1f%%, loss %.4g", lr, seed,
                             t.diverged ? "diverged at step \(t.divergenceStep ?? -1)" : (t.trains ? "trains" : "does not train"),
                             100 * t.lastEpochTrainAccuracy, t.lastEpochLoss))
                context.progress(String(format: "lr %.3g seed %d: %@", lr, seed, t.trains ? "trains" : "fails"))
                if !t.trains { all = false; break }  // one failing seed decides
            }
            return all
        }
        var low: Double?, high: Double?
        for lr in grid.reversed() {
            if try trains(lr) { low = lr; break }
            high = lr
        }
        if var lo = low, var hi = high {
            while hi / lo > factor {
                let mid = (lo * hi).squareRoot()
                if try trains(mid) { lo = mid } else { hi = mid }
            }
            low = lo; high = hi
        }
        let result = Result(normalization: normalization, depth: params.network.depth, largestStableLr: low,
                            smallestFailingLr: high, trials: trials)
        print("largest rate that trains: \(low.map { String(format: "%.4g", $0) } ?? "none of the grid")"
              + (high.map { String(format: " (fails at %.4g)", $0) } ?? ""))
        try context.write(result, of: Self.self, claims: [])
    }
}

/// Short training runs on one fixed subset: what `max-stable-lr` tries each rate with.
struct TrialRunner {
    let params: MaxStableLRStage.Params
    let assemblers: (Int) throws -> BatchAssembler

    init(_ context: StageContext, _ params: MaxStableLRStage.Params) throws {
        self.params = params
        let loaded = try AnalysisSetup.data(context), data = loaded.data
        let input = try AnalysisSetup.input(params.network, loaded)
        let indices = try Subsets.stratified(labels: data.train.labels, perClass: params.trainPerClass, seed: 0)
        let batchSize = params.network.batchSize
        assemblers = { seed in
            try BatchAssembler(source: data.train, indices: indices, normalization: input,
                               options: .training(batchSize: batchSize, seed: UInt64(seed)))
        }
    }

    func run(lr: Double, seed: Int) throws -> MaxStableLRStage.Trial {
        let assembler = try assemblers(seed)
        let model = try AnalysisSetup.network(params.network, normalization: params.normalization, seed: seed)
        var trainer = AnalysisSetup.constantRateTrainer(model, learningRate: lr, params.optimizer)
        trainer.divergenceThreshold = params.threshold
        let epochs = params.epochs, minAccuracy = params.minTrainAccuracy
        let perEpoch = assembler.batchesPerEpoch, total = epochs * perEpoch
        var correct = 0, seen = 0, lossSum = 0.0, labels: [Int32] = []
        let outcome = try trainer.train(totalSteps: total, next: { step in
            let b = assembler.batch(epoch: step / perEpoch, index: step % perEpoch)
            labels = b.labels
            return b
        }, onStep: { step, loss in
            // The logits of this step's forward pass are still in the model: count them as SGD saw them.
            guard step >= total - perEpoch else { return }
            correct += try model.correctPredictions(labels: labels)
            seen += labels.count
            lossSum += loss * Double(labels.count)
        })
        if case .diverged(let step, let loss) = outcome {
            return .init(lr: lr, seed: seed, diverged: true, divergenceStep: step, lastEpochTrainAccuracy: 0, lastEpochLoss: loss, trains: false)
        }
        let accuracy = Double(correct) / Double(max(seen, 1))
        return .init(lr: lr, seed: seed, diverged: false, divergenceStep: nil, lastEpochTrainAccuracy: accuracy,
                     lastEpochLoss: lossSum / Double(max(seen, 1)), trains: accuracy >= minAccuracy)
    }
}
