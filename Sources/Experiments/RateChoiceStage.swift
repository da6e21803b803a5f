import Datasets
import Foundation
import NN
import Pipeline

/// `rate-choice` (App. E): the initial rate at which one network does best, chosen the way the paper's
/// "best of its initial rates" can be chosen without reading the test set. Every training run of that
/// network among the deps is evaluated, from its final checkpoint, on a validation split: images of the
/// training set that none of the compared runs trained on. The rate with the highest mean validation
/// accuracy among those whose runs all reached their plateau (and none diverged) is chosen; when no rate
/// reached it, the best of the rest is chosen and marked as not at plateau.
public struct RateChoiceStage: AnalysisKind, ParameterizedKind {
    public typealias Result = RateChoice
    public static let kindName = "rate-choice"
    public let version = 1

    public struct Params: StageParams {
        @Param("the network whose rates are compared: batchNorm, none or lastLayerOnly") public var normalization = Normalization.batchNorm
        @Param("validation images per class, held out of every compared run's training images") public var validationPerClass = 250
        @Param("seed of the validation split") public var validationSeed = 1

        public init() {}
    }

    public init() {}

    public func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws {
        guard params.validationPerClass >= 1 else {
            throw PipelineError.badParameter(stage: stage, parameter: "validationPerClass", problem: "must be positive")
        }
        guard dependencyKinds.contains(TrainStage.kindName), dependencyKinds.contains(CIFAR10DecodeStage().name) else {
            throw PipelineError.badParameter(stage: stage, parameter: "deps", problem: "needs the train stages to compare and a cifar10-decode stage")
        }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let runs = try context.results(of: TrainStage.self).compactMap { input, metrics -> Candidate? in
            let trainParams = try input.params(TrainStage.Params.self)
            guard metrics.normalization == params.normalization, trainParams.curve else { return nil }
            return Candidate(input: input, params: trainParams, metrics: metrics)
        }
        guard !runs.isEmpty else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps",
                                             problem: "no training run of the \(params.normalization.rawValue) network among the deps")
        }
        let loaded = try AnalysisSetup.data(context)
        let validation = try Self.validationIndices(runs.map(\.params), loaded: loaded, params: params, stage: context.stage)
        var accuracies: [Double?] = []
        for (i, run) in runs.enumerated() {
            accuracies.append(try Self.validationAccuracy(run, indices: validation, loaded: loaded))
            context.progress("\(run.input.stage): validation \(accuracies[i].map { String(format: "%.1f%%", 100 * $0) } ?? "— (diverged)")",
                             fraction: Double(i + 1) / Double(runs.count))
        }
        let rates = Dictionary(grouping: runs.indices, by: { runs[$0].metrics.learningRate }).map { lr, members in
            RateChoice.Rate(learningRate: lr, stages: members.map { runs[$0].input.stage }, epochs: Set(members.map { runs[$0].metrics.epochs }).sorted(),
                            diverged: members.filter { runs[$0].metrics.diverged }.count,
                            atPlateau: members.allSatisfy { runs[$0].metrics.reachedPlateau },
                            validation: SeededAccuracy(values: members.map { accuracies[$0] ?? 0.1 }, images: validation.count))
        }.sorted { $0.learningRate < $1.learningRate }
        let choice = RateChoice(normalization: params.normalization, validationImages: validation.count, rates: rates)
        try Data(choice.markdown.utf8).write(to: context.output(Self.tableFile(params.normalization)), options: .atomic)
        try context.write(choice, of: Self.self, claims: [])
        print(choice.markdown, terminator: "")
    }

    public static func tableFile(_ normalization: Normalization) -> String { "rate-choice-\(normalization.rawValue).md" }

    struct Candidate {
        let input: StageInputs
        let params: TrainStage.Params
        let metrics: TrainMetrics
    }

    /// The validation split: `validationPerClass` per class of the training images no compared run trained on.
    static func validationIndices(_ runs: [TrainStage.Params], loaded: LoadedData, params: Params, stage: String) throws -> [Int] {
        let labels = loaded.data.train.labels
        var trained = Set<Int>()
        for run in Set(runs.map { [$0.trainPerClass, $0.subsetSeed] }) {
            guard run[0] > 0 else {
                throw PipelineError.badParameter(stage: stage, parameter: "deps",
                    problem: "a compared run trained on every training image (trainPerClass 0), so none is left to validate on; hold some out with trainPerClass")
            }
            trained.formUnion(try Subsets.stratified(labels: labels, perClass: run[0], seed: UInt64(run[1])))
        }
        do {
            return try Subsets.stratified(labels: labels, perClass: params.validationPerClass, excluding: trained,
                                          seed: UInt64(params.validationSeed))
        } catch let error as Subsets.Error {
            throw PipelineError.badParameter(stage: stage, parameter: "validationPerClass", problem: "\(error) (after the training images)")
        }
    }

    /// The run's final weights on the validation images, with its own preprocessing and BN in inference
    /// mode; nil for a run that diverged (its weights are not a result).
    static func validationAccuracy(_ run: Candidate, indices: [Int], loaded: LoadedData) throws -> Double? {
        guard !run.metrics.diverged else { return nil }
        let model = try ResNet(checkpointAt: try run.input.file(TrainStage.checkpoint, for: run.input.stage))
        let images = try BatchAssembler(source: loaded.data.train, indices: indices, normalization: try AnalysisSetup.input(run.params.network, loaded),
                                        options: .evaluation(batchSize: run.params.network.batchSize))
        return try TrainEndpoint.accuracy(model, images).accuracy
    }
}

/// One network's rates, each with its runs' validation accuracy, and the one chosen.
public struct RateChoice: Codable, Sendable {
    public struct Rate: Codable, Sendable {
        public var learningRate: Double
        public var stages: [String]
        public var epochs: [Int]
        /// Runs that diverged (their validation accuracy counts as chance).
        public var diverged: Int
        /// Every run reached its plateau (clean training accuracy).
        public var atPlateau: Bool
        public var validation: SeededAccuracy
        var eligible: Bool { diverged == 0 && atPlateau }
    }

    public var normalization: Normalization
    public var validationImages: Int
    public var rates: [Rate]

    /// The best mean validation accuracy among the rates at their plateau, else among the rest that did not
    /// diverge; a tie goes to the larger rate. nil when every rate diverged.
    public var chosen: Rate? {
        let eligible = rates.filter(\.eligible)
        let pool = eligible.isEmpty ? rates.filter { $0.diverged == 0 } : eligible
        return pool.max { ($0.validation.mean, $0.learningRate) < ($1.validation.mean, $1.learningRate) }
    }

    public var chosenAtPlateau: Bool { chosen?.eligible ?? false }

    var markdown: String {
        var lines = ["# \(normalization.rawValue): initial rate chosen on validation",
                     "",
                     "\(validationImages) validation images held out of the training images (never the test set); "
                        + "chosen: the best mean validation accuracy among rates whose runs all reached their plateau.",
                     "",
                     "| lr | runs | epochs | diverged | at plateau | validation accuracy | chosen |",
                     "|---|---|---|---|---|---|---|"]
        let best = chosen?.learningRate
        for r in rates {
            lines.append("| \(Fig1Accuracy.rateText(r.learningRate)) | \(r.stages.count) | \(r.epochs.map(String.init).joined(separator: "/")) | "
                         + "\(r.diverged) | \(r.atPlateau ? "yes" : "no") | \(r.validation.text) | "
                         + "\(r.learningRate == best ? (r.eligible ? "**yes**" : "**yes (not at plateau)**") : "") |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
