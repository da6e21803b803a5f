import ArrayFormats
import Datasets
import Foundation
import NN
import Pipeline

/// `train` (Fig. 1): one training run of a CIFAR ResNet with or without BN: SGD with momentum and weight
/// decay, the rate divided by 10 at fixed fractions of training (He et al.: 50 % and 75 %), standard
/// augmentation. Train and test accuracy and loss are recorded `evaluationsPerEpoch` times per epoch.
/// A run whose mini-batch loss exceeds `threshold` (or overflows) stops there and is a result
/// (`diverged: true` with its step), not a failure. A killed run resumes from its last evaluation.
public struct TrainStage: AnalysisKind, ParameterizedKind {
    public typealias Result = TrainMetrics
    public static let kindName = "train"
    public static let metricsCSV = "metrics.csv"
    public static let stepLosses = "step-losses.npy"
    public static let checkpoint = "final.safetensors"

    /// 3: `seconds` left the metrics (the action record keeps the time).
    /// 4: test accuracy from the fused inference path (BN folded into the convs), equal to the old
    /// evaluation to float32 rounding, not to the bit.
    /// 5: the endpoint (clean training accuracy, the plateau, the final test set).
    /// 6: `curve` (a run Fig. 1 draws, or a probe only its claims read).
    public let version = 6
    static let thresholdHelp = "divergence: a mini-batch loss above this (paper: 10³)"

    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @ParamGroup public var optimizer = OptimizerParams()
        @Param("BN after every conv (true) or the unnormalised network (false)") public var bn = true
        @Param("byBn (batchNorm or none as bn says), or lastLayerOnly: one BN on the last block's output (needs bn: false)")
        public var normalization = TrainNormalization.byBn
        @Required("initial learning rate, or \"searched\": the largest stable rate a max-stable-lr dependency found")
        public var lr: LearningRateChoice
        @Param("passes over the training images") public var epochs = 165
        @Param("fractions of training at which the rate is divided by 10") public var drops = [0.5, 0.75]
        @Param("steps at warmupRate before the schedule starts, for runs whose lr exceeds warmupRate (He et al.: ~400 for ResNet-110 at 0.1)")
        public var warmupSteps = 0
        @Param("the rate during warm-up") public var warmupRate = 0.01
        @Param("training images per class (a stratified subset); 0 = all 5,000") public var trainPerClass = 0
        @Param("test images per class of the per-epoch curves (a stratified subset); 0 = all 1,000") public var testPerClass = 0
        @Param("test images per class of the final accuracy; 0 = all 1,000") public var finalTestPerClass = 0
        @Param("a run reached its plateau when its clean training accuracy (no augmentation, BN in inference) is at least this")
        public var plateauAccuracy = 0.95
        @Param("seed of the subsets (the same for every run, so runs see the same images)") public var subsetSeed = 0
        @Param("evaluations per epoch (more points on short runs)") public var evaluationsPerEpoch = 1
        @Param(thresholdHelp) public var threshold = 1e3
        @Param("Fig. 1 draws this run as a curve (false: a probe only its claims read, e.g. ResNet-110 without BN for 200 steps at 0.1)")
        public var curve = true
        @Param("also save a resume point after this many minutes without one (0: only at evaluations and on SIGTERM)")
        public var checkpointMinutes = 30.0

        public init() {}

        /// The network the params train.
        public var normalizationUsed: Normalization {
            normalization == .lastLayerOnly ? .lastLayerOnly : (bn ? .batchNorm : .none)
        }
    }

    public init() {}

    public func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws {
        if params.normalization == .lastLayerOnly, params.bn {
            throw PipelineError.badParameter(stage: stage, parameter: "normalization", problem: "lastLayerOnly needs bn: false (bn: true puts BN after every conv)")
        }
        switch params.lr {
        case .rate(let lr) where lr > 0: return
        case .searched:
            guard dependencyKinds.contains(MaxStableLRStage.kindName) else {
                throw PipelineError.badParameter(stage: stage, parameter: "lr", problem: "\"searched\" needs a max-stable-lr stage among its deps")
            }
        case .rate(let lr):
            throw PipelineError.badParameter(stage: stage, parameter: "lr", problem: "expected a positive number or \"searched\", got \(lr)")
        }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let run = try TrainRun(context, params)
        var loop = try TrainLoop(run, context, params)
        try loop.train()
        let model = loop.model, diverged = loop.diverged
        let metrics = TrainMetrics(
            normalization: run.normalization, learningRate: run.learningRate, depth: model.config.depth,
            seed: params.network.seed, epochs: run.epochs, trainImages: run.assembler.indices.count,
            testImages: run.testLabels.count, stepsPerEpoch: run.stepsPerEpoch, totalSteps: run.totalSteps,
            evaluations: loop.evaluations, diverged: diverged != nil, divergenceStep: diverged?.step, divergenceLoss: diverged?.loss,
            endpoint: diverged != nil ? nil : try TrainEndpoint.measure(model, train: run.cleanTrain, test: run.finalTest,
                                                                          plateauAccuracy: params.plateauAccuracy))
        try write(metrics, stepLosses: loop.stepLosses, model: model, context: context, seconds: loop.seconds)
    }

    /// `seconds` (training time across resumes) goes to the log only.
    private func write(_ metrics: TrainMetrics, stepLosses: [Float], model: ResNet, context: StageContext, seconds: Double) throws {
        // A single run tests no claim of the paper; Fig. 1 compares the runs.
        try context.write(metrics, of: Self.self, claims: [])
        try TrainCSV.render(metrics).write(to: context.output(Self.metricsCSV), atomically: true, encoding: .utf8)
        try NPY.write(try NPYArray(float32: stepLosses, shape: [stepLosses.count]), to: context.output(Self.stepLosses))
        try model.saveCheckpoint(to: context.output(Self.checkpoint),
                                 metadata: ["stage": context.stage, "stageKey": context.key, "steps": String(stepLosses.count)])
        if let step = metrics.divergenceStep {
            print(String(format: "diverged at step %d (loss %.4g) after %.0f s", step, metrics.divergenceLoss ?? .nan, seconds))
        } else if let f = metrics.final {
            print(String(format: "%d steps in %.0f s: train %.2f%% (loss %.4f), test %.2f%% (loss %.4f)", metrics.totalSteps, seconds,
                         100 * f.trainAccuracy, f.trainLoss, 100 * f.testAccuracy, f.testLoss))
        }
        if let e = metrics.endpoint {
            print(String(format: "endpoint: clean train %.2f%% of %d (%@ plateau %.0f%%), final test %.2f%% of %d", 100 * e.trainAccuracy, e.trainImages,
                         e.reachedPlateau ? "reached" : "NOT at", 100 * e.plateauAccuracy, 100 * e.testAccuracy, e.testImages))
        }
    }
}

/// A `train` stage's params resolved into what the loop needs: data, schedule and sizes.
struct TrainRun {
    let normalization: Normalization
    let learningRate: Double
    let momentum: Float, weightDecay: Float
    let epochs: Int, batchSize: Int
    let threshold: Double
    let schedule: LearningRateSchedule
    let assembler: BatchAssembler
    let testImages: [Float], testLabels: [Int32]
    /// The training images without augmentation, and the final test set (the endpoint's).
    let cleanTrain: BatchAssembler, finalTest: BatchAssembler
    let stepsPerEpoch: Int, totalSteps: Int
    /// Steps after which to evaluate: evenly spread, the last one at the end.
    let evaluationSteps: Set<Int>

    init(_ context: StageContext, _ params: TrainStage.Params) throws {
        func bad(_ parameter: String, _ problem: String) -> PipelineError {
            PipelineError.badParameter(stage: context.stage, parameter: parameter, problem: problem)
        }
        normalization = params.normalizationUsed
        switch params.lr {
        case .searched:
            let search = try context.result(of: MaxStableLRStage.self)
            guard let found = search.largestStableLr else { throw bad("lr", "the max-stable-lr search found no rate that trains") }
            guard search.depth == params.network.depth else {
                throw bad("lr", "\"searched\" reads a search at depth \(search.depth), but this run trains depth \(params.network.depth)")
            }
            learningRate = found
        case .rate(let rate):
            learningRate = rate
        }
        guard learningRate > 0 else { throw bad("lr", "must be positive") }
        momentum = Float(params.optimizer.momentum); weightDecay = Float(params.optimizer.weightDecay)
        epochs = params.epochs; batchSize = params.network.batchSize
        guard epochs > 0 else { throw bad("epochs", "must be positive") }
        threshold = params.threshold
        let drops = params.drops
        // He et al.'s warm-up eases a large rate in; a run at a small rate has nothing to warm up to.
        let warmupRate = params.warmupRate
        guard drops.allSatisfy({ $0 > 0 && $0 < 1 }) else { throw bad("drops", "fractions must be in (0, 1), got \(drops)") }
        schedule = LearningRateSchedule(base: Float(learningRate), drops: drops.map { .init(atFraction: $0) },
                                        warmupSteps: learningRate > warmupRate ? params.warmupSteps : 0,
                                        warmupRate: Float(warmupRate))

        let loaded = try AnalysisSetup.data(context), data = loaded.data
        let input = try AnalysisSetup.input(params.network, loaded)
        let subsetSeed = UInt64(params.subsetSeed)
        let trainPerClass = params.trainPerClass, testPerClass = params.testPerClass
        let trainIndices = trainPerClass > 0 ? try Subsets.stratified(labels: data.train.labels, perClass: trainPerClass, seed: subsetSeed) : nil
        assembler = try BatchAssembler(source: data.train, indices: trainIndices, normalization: input,
                                       options: .training(batchSize: batchSize, seed: UInt64(params.network.seed)))
        stepsPerEpoch = assembler.batchesPerEpoch
        guard stepsPerEpoch > 0 else { throw bad("batchSize", "larger than the \(assembler.indices.count) training images") }
        totalSteps = epochs * stepsPerEpoch

        let testIndices = testPerClass > 0 ? try Subsets.stratified(labels: data.test.labels, perClass: testPerClass, seed: subsetSeed) : nil
        let test = try BatchAssembler(source: data.test, indices: testIndices, normalization: input, options: .evaluation(batchSize: batchSize))
        var images: [Float] = [], labels: [Int32] = []
        for b in 0..<test.batchesPerEpoch {
            let batch = test.batch(epoch: 0, index: b)
            images += batch.images; labels += batch.labels
        }
        testImages = images; testLabels = labels
        cleanTrain = try BatchAssembler(source: data.train, indices: trainIndices, normalization: input, options: .evaluation(batchSize: batchSize))
        let finalPerClass = params.finalTestPerClass
        let finalIndices = finalPerClass > 0 ? try Subsets.stratified(labels: data.test.labels, perClass: finalPerClass, seed: subsetSeed) : nil
        finalTest = try BatchAssembler(source: data.test, indices: finalIndices, normalization: input, options: .evaluation(batchSize: batchSize))

        let perEpoch = params.evaluationsPerEpoch
        guard perEpoch > 0 else { throw bad("evaluationsPerEpoch", "must be positive") }
        let count = epochs * perEpoch, total = totalSteps
        evaluationSteps = Set((1...count).map { i in max(1, Int((Double(total) * Double(i) / Double(count)).rounded())) })
    }
}

extension TrainRun {
    /// The evaluation at `step`: the test subset's accuracy and loss now, and the training tallies since
    /// the last evaluation.
    func evaluation(_ model: ResNet, step: Int, learningRate: Float, tallies: TrainResumeState.PendingTallies) throws -> TrainEvaluation {
        let test = try model.evaluate(images: testImages, labels: testLabels, batchSize: batchSize)
        return TrainEvaluation(
            epoch: Double(step) / Double(stepsPerEpoch), step: step,
            percentOfTraining: 100 * Double(step) / Double(totalSteps), learningRate: Double(learningRate),
            trainAccuracy: Double(tallies.correct) / Double(max(tallies.seen, 1)), trainLoss: tallies.lossSum / Double(max(tallies.seen, 1)),
            testAccuracy: test.accuracy, testLoss: test.meanLoss)
    }
}

