import Datasets
import Foundation
import NN
import Pipeline

/// One curve of Fig. 3: r(s) = L_B(θ − s·∇L_B(θ)) / L_B(θ) on mini-batch k, θ after k − 1 SGD steps.
public struct RelativeLossCurve: Codable, Equatable, Sendable {
    public var normalization: Normalization
    /// 1-based, as the paper's column titles ("mini-batch 1").
    public var miniBatch: Int
    /// The rate of the k − 1 training steps that led to θ.
    public var learningRate: Double
    /// L_B(θ).
    public var baseLoss: Double
    /// ‖∇L_B(θ)‖₂, for reading step sizes as distances.
    public var gradientNorm: Double
    public var stepSizes: [Double]
    /// L_B(θ − s·∇L_B(θ)); may be +Infinity or NaN where the network overflows.
    public var losses: [Double]
    public var relativeLoss: [Double]
}

public struct RelativeLossResult: Codable, Equatable, Sendable {
    public var depth: Int
    public var seed: Int
    public var batchSize: Int
    public var curves: [RelativeLossCurve]
}

/// `relative-loss` (Fig. 3): for the BN and the unnormalised network, trained from initialisation with
/// their usual rates (0.1 and 1e-4), the loss on mini-batch k along its own negative gradient, relative to
/// the loss before the step, over a log grid of step sizes. The gradient is the plain mini-batch gradient
/// (no momentum, no weight decay); BN uses the batch's statistics, as in training. The probes never
/// touch BN's running averages, so the training steps between probes are exactly SGD's.
public struct RelativeLossStage: AnalysisKind, ParameterizedKind {
    public typealias Result = RelativeLossResult
    public static let kindName = "relative-loss"
    public static let outputCSV = "relative-loss.csv"
    public let version = 2
    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @ParamGroup public var optimizer = OptimizerParams()
        @Param("1-based mini-batches to probe (paper: 1, 4, 7)") public var miniBatches = [1, 4, 7]
        @Param("learning rate of the steps before a probe, with BN") public var lrBN = 0.1
        @Param("learning rate of the steps before a probe, without BN") public var lrNoBN = 1e-4
        @Param("divergence of the steps before the probes: a mini-batch loss above this (paper: 10³)") public var threshold = 1e3
        @Param("smallest step size of the log grid") public var stepMin = 1e-5
        @Param("largest step size of the log grid") public var stepMax = 0.2
        @Param("points of the log grid (about 8 per decade)") public var stepCount = 36

        public init() {}
    }

    public init() {}

    public func run(_ context: StageContext, _ params: Params) throws {
        let ks = params.miniBatches
        guard !ks.isEmpty, ks.allSatisfy({ $0 >= 1 }) else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "miniBatches", problem: "needs 1-based batch numbers, got \(ks)")
        }
        let steps = try Self.logGrid(params, stage: context.stage)
        let assembler = try AnalysisSetup.batches(params.network, try AnalysisSetup.data(context))
        guard ks.max() ?? 1 <= assembler.batchesPerEpoch else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "miniBatches",
                problem: "batch \(ks.max() ?? 0) needs more than the \(assembler.batchesPerEpoch) batches of one epoch")
        }
        var curves: [RelativeLossCurve] = []
        let runs: [(Normalization, Double)] = [(.batchNorm, params.lrBN), (.none, params.lrNoBN)]
        for (normalization, lr) in runs {
            let model = try AnalysisSetup.network(params.network, normalization: normalization)
            var trainer = AnalysisSetup.constantRateTrainer(model, learningRate: lr, params.optimizer)
            trainer.divergenceThreshold = params.threshold
            let order = assembler.order(epoch: 0)
            for k in 1...(ks.max() ?? 1) {
                let batch = assembler.batch(epoch: 0, index: k - 1, order: order)
                if ks.contains(k) {
                    curves.append(try Self.probe(model, batch: batch, steps: steps, normalization: normalization,
                                                 miniBatch: k, learningRate: lr))
                    let done = Double(curves.count) / Double(runs.count * ks.count)
                    context.progress(String(format: "%@ mini-batch %d: L = %.4g, min r = %.3g", normalization.rawValue, k,
                                            curves[curves.count - 1].baseLoss,
                                            curves[curves.count - 1].relativeLoss.filter(\.isFinite).min() ?? .nan),
                                     fraction: min(1, done))
                }
                if k < (ks.max() ?? 1) {
                    let loss = try trainer.trainStep(batch, totalSteps: Int.max)
                    guard !trainer.isDivergent(loss) else {
                        throw PipelineError.badParameter(stage: context.stage, parameter: normalization == .batchNorm ? "lrBN" : "lrNoBN",
                            problem: "training diverged (loss \(loss)) at step \(k) before the probes; use the paper's rate")
                    }
                }
            }
        }
        let result = RelativeLossResult(depth: params.network.depth, seed: params.network.seed,
                                        batchSize: params.network.batchSize, curves: curves)
        try Self.csv(result).write(to: context.output(Self.outputCSV), atomically: true, encoding: .utf8)
        try context.write(result, of: Self.self, claims: Self.claims(result))
        for c in curves {
            let best = zip(c.stepSizes, c.relativeLoss).filter { $0.1.isFinite }.min { $0.1 < $1.1 }
            print(String(format: "%@ mini-batch %d: L = %.4f, |g| = %.4g, min r = %.4f at s = %.3g, r(smax) = %.4g",
                         c.normalization.rawValue, c.miniBatch, c.baseLoss, c.gradientNorm, best?.1 ?? .nan, best?.0 ?? .nan,
                         c.relativeLoss.last ?? .nan))
        }
    }

    /// The loss along −∇L_B from θ, on batch B; θ is restored afterwards.
    static func probe(_ model: ResNet, batch: ImageBatch, steps: [Double], normalization: Normalization,
                      miniBatch: Int, learningRate: Double) throws -> RelativeLossCurve {
        let base = try model.forward(images: batch.images, labels: batch.labels, mode: .training)
        try model.backward()
        let theta = model.parameterVector(), gradient = model.gradientVector()
        let norm = gradient.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        var losses: [Double] = []
        for s in steps {
            try model.setParameters(base: theta, plus: Float(-s), times: gradient)
            losses.append(try model.forward(images: batch.images, labels: batch.labels, mode: .training))
        }
        try model.setParameters(theta)
        return RelativeLossCurve(normalization: normalization, miniBatch: miniBatch, learningRate: learningRate,
                                 baseLoss: base, gradientNorm: norm, stepSizes: steps, losses: losses,
                                 relativeLoss: losses.map { $0 / base })
    }

    static func logGrid(_ params: Params, stage: String) throws -> [Double] {
        let lo = params.stepMin, hi = params.stepMax, n = params.stepCount
        guard lo > 0, hi > lo, n >= 2 else {
            throw PipelineError.badParameter(stage: stage, parameter: "stepMin",
                                             problem: "needs 0 < stepMin < stepMax and stepCount ≥ 2 (got \(lo), \(hi), \(n))")
        }
        return (0..<n).map { i in pow(10, log10(lo) + (log10(hi) - log10(lo)) * Double(i) / Double(n - 1)) }
    }

    static func csv(_ result: RelativeLossResult) -> String {
        var lines = ["normalization,mini_batch,step_size,loss,relative_loss"]
        for c in result.curves {
            for i in c.stepSizes.indices {
                lines.append("\(c.normalization.rawValue),\(c.miniBatch),\(c.stepSizes[i]),\(c.losses[i]),\(c.relativeLoss[i])")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Fig. 3's claims (paper-notes §4, Fig. 3): without BN only small steps lower the loss and a
    /// step of a few 10⁻³ makes it explode; with BN steps up to a few 10⁻² lower it. An overflowed loss
    /// (inf or NaN) counts as above any bound.
    static func claims(_ r: RelativeLossResult) -> [Claim] {
        let source = "paper-notes §4 Fig. 3 [IMG; TXT 395t]"
        func curves(_ n: Normalization) -> [RelativeLossCurve] { r.curves.filter { $0.normalization == n }.sorted { $0.miniBatch < $1.miniBatch } }
        func above(_ x: Double, _ bound: Double) -> Bool { !x.isFinite || x > bound }
        let noBN = curves(.none), bn = curves(.batchNorm)
        // Smallest step from which the relative loss stays above 1, per mini-batch.
        let risesFrom = noBN.map { c -> Double in
            var from = Double.nan
            for (s, x) in zip(c.stepSizes, c.relativeLoss).reversed() { if above(x, 1) { from = s } else { break } }
            return from
        }
        let explodesAt = noBN.map { c in zip(c.stepSizes, c.relativeLoss).first { above($0.1, 1e3) }?.0 ?? .infinity }
        let bnStableTo = bn.map { c -> Double in
            var last = 0.0
            for (s, x) in zip(c.stepSizes, c.relativeLoss) { if above(x, 1) { break }; last = s }
            return last
        }
        func list(_ values: [Double], _ cs: [RelativeLossCurve]) -> String {
            zip(cs, values).map { String(format: "mb %d: %.2g", $0.miniBatch, $1) }.joined(separator: ", ")
        }
        return [
            Claim(id: "fig3.nobn-rises", figure: "Fig. 3", statement: "without BN every step of 3·10⁻³ or more raises the loss, on mini-batches 1, 4 and 7",
                  paper: "r > 1 from s ≈ 1e-3", source: source, ours: "r > 1 from s = " + list(risesFrom, noBN),
                  test: "from ≤ 3e-3 on every mini-batch", verdict: Claim.verdict(!noBN.isEmpty && risesFrom.allSatisfy { $0 <= 3e-3 })),
            Claim(id: "fig3.nobn-explodes", figure: "Fig. 3", statement: "without BN the loss grows more than 10³-fold at a step below 0.05",
                  paper: "r > 10⁶ by s ≈ 3–6e-3", source: source, ours: "r > 10³ first at s = " + list(explodesAt, noBN),
                  test: "< 0.05 on every mini-batch", verdict: Claim.verdict(!noBN.isEmpty && explodesAt.allSatisfy { $0 < 0.05 })),
            Claim(id: "fig3.bn-stable", figure: "Fig. 3", statement: "with BN steps up to at least 0.03 do not raise the loss",
                  paper: "r ≤ 1 up to s ≈ 0.1", source: source, ours: "r ≤ 1 up to s = " + list(bnStableTo, bn),
                  test: "≥ 0.03 on every mini-batch", verdict: Claim.verdict(!bn.isEmpty && bnStableTo.allSatisfy { $0 >= 0.03 })),
        ]
    }
}
