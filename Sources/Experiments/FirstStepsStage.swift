import Datasets
import Foundation
import NN
import Pipeline

/// One network's first steps at its usual rate.
public struct FirstStepsRun: Codable, Equatable, Sendable {
    public var normalization: Normalization
    public var learningRate: Double
    public var steps: [StepDiagnostics]
}

public struct FirstStepsResult: Codable, Equatable, Sendable {
    public var depth: Int
    public var seed: Int
    public var batchSize: Int
    public var setup: String
    public var runs: [FirstStepsRun]
}

/// `first-steps`: the diagnosis behind Fig. 3. The BN and the unnormalised network train from
/// initialisation exactly as `relative-loss` trains them between its probes (same batches, rates and
/// SGD), and before every step this stage records what the relative-loss curve cannot show: the
/// gradient norm per stage and per kind of parameter, the share of live ReLUs per stage, the logits'
/// size and their dependence on the image, and how far the step moves each layer's weights. A network
/// whose body dies after its first steps (every image mapped to the same logits, a vanishing gradient)
/// shows here as a zero logit spread and a falling gradient norm.
public struct FirstStepsStage: AnalysisKind {
    public typealias Result = FirstStepsResult
    public static let kindName = "first-steps"
    public let version = 1
    public let parameters = AnalysisSetup.networkParameters + AnalysisSetup.optimizerParameters + [
        ParameterSpec("steps", .integer, default: 8, help: "SGD steps diagnosed (mini-batches 1…steps; Fig. 3 probes 1, 4, 7)"),
        ParameterSpec("lrBN", .number, default: 0.1, help: "learning rate with BN (the paper's)"),
        ParameterSpec("lrNoBN", .number, default: 1e-4, help: "learning rate without BN (the paper's)"),
        ParameterSpec("normalizations", .array, default: ["batchNorm", "none"], help: "the networks diagnosed (batchNorm, none)"),
    ]

    public init() {}

    public func run(_ context: StageContext) throws {
        let count = try context.int("steps")
        guard count >= 1 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "steps", problem: "needs at least 1 step, got \(count)")
        }
        let batches = try AnalysisSetup.firstBatches(context, count: count)
        var runs: [FirstStepsRun] = []
        let chosen = try Self.normalizations(context)
        for normalization in chosen {
            let lr = try context.double(normalization == .batchNorm ? "lrBN" : "lrNoBN")
            let model = try AnalysisSetup.network(context, normalization: normalization)
            let steps = try Self.diagnose(model, batches: batches, learningRate: lr, momentum: Float(try context.double("momentum")),
                                          weightDecay: Float(try context.double("weightDecay"))) { d in
                context.progress(String(format: "%@ step %d: loss %.4g, |g| %.3g, logit spread %.3g, live ReLUs %@",
                                        normalization.rawValue, d.miniBatch, d.loss, d.gradientNorm, d.logitSpread,
                                        d.positiveFraction.map { String(format: "%.2f", $0) }.joined(separator: "/")),
                                 fraction: (Double(runs.count) + Double(d.miniBatch) / Double(count)) / Double(chosen.count))
            }
            runs.append(FirstStepsRun(normalization: normalization, learningRate: lr, steps: steps))
        }
        let result = FirstStepsResult(depth: try context.int("depth"), seed: try context.int("seed"), batchSize: try context.int("batchSize"),
                                      setup: try AnalysisSetup.setup(context).description, runs: runs)
        try Self.csv(result).write(to: context.output("first-steps.csv"), atomically: true, encoding: .utf8)
        try context.write(result, of: Self.self, claims: [])
    }

    /// Trains `model` on `batches` in order at a constant rate with the paper's SGD (as `Trainer` does),
    /// diagnosing each step; stops after a step whose loss overflowed (no update is taken there).
    static func diagnose(_ model: ResNet, batches: [ImageBatch], learningRate: Double, momentum: Float, weightDecay: Float,
                         onStep: (StepDiagnostics) -> Void = { _ in }) throws -> [StepDiagnostics] {
        var sgd = SGD(parameterCount: model.parameters.count, momentum: momentum, weightDecay: weightDecay)
        let probe = StepProbe(model: model)
        var steps: [StepDiagnostics] = []
        for (i, batch) in batches.enumerated() {
            let loss = try model.forward(images: batch.images, labels: batch.labels, mode: .training, updateRunningStats: true)
            try model.backward()
            var d = try probe.measureBeforeStep(miniBatch: i + 1, loss: loss)
            guard loss.isFinite else {
                steps.append(d)
                onStep(d)
                break
            }
            let before = model.parameterVector()
            sgd.step(model.parameters, model.gradients, learningRate: Float(learningRate))
            d.updateRatioByLayer = probe.updateRatios(before: before, after: model.parameterVector())
            steps.append(d)
            onStep(d)
        }
        return steps
    }

    static func normalizations(_ context: StageContext) throws -> [Normalization] {
        let names = context.params["normalizations"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let chosen = names.compactMap { Normalization(rawValue: $0) }.filter { $0 != .lastLayerOnly }
        guard !chosen.isEmpty, chosen.count == names.count else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "normalizations",
                                             problem: "needs a non-empty list of batchNorm and none, got \(names)")
        }
        return chosen
    }

    static func csv(_ result: FirstStepsResult) -> String {
        let groups = StepDiagnostics.groups, kinds = ParameterKind.allCases.map(\.rawValue)
        var lines = [(["normalization", "mini_batch", "loss", "logit_rms", "logit_spread", "gradient_norm"]
                      + groups.map { "grad_\($0)" } + kinds.map { "grad_\($0)" } + groups.dropLast().map { "positive_\($0)" })
                     .joined(separator: ",")]
        for run in result.runs {
            for d in run.steps {
                let values = [d.loss, d.logitRMS, d.logitSpread, d.gradientNorm] + d.gradientNormByGroup + d.gradientNormByKind + d.positiveFraction
                lines.append(([run.normalization.rawValue, "\(d.miniBatch)"] + values.map { "\($0)" }).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
