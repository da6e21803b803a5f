import Datasets
import Foundation
import NN
import Pipeline

/// Channel moments of one layer along the diverging update: rows t, columns channels.
public struct LayerMoments: Codable, Equatable, Sendable {
    public var layer: Int
    public var channels: Int
    /// means[i][c] at θ + t_i·Δθ.
    public var means: [[Double]]
    public var variances: [[Double]]
}

/// How a candidate protocol ended: a diverging update float32 can represent, none within `maxSteps`
/// at any rate tried, or one whose moments overflow float32 at every rate tried.
public enum DivergingUpdateOutcome: String, Codable, Sendable {
    case diverged, noDivergence, overflowed
}

public struct DivergingUpdateResult: Codable, Equatable, Sendable {
    public var depth: Int
    public var seed: Int
    /// The protocol's rule for the large rate: `largestRepresentable` or `smallestDiverging`.
    public var rateRule: String
    public var outcome: DivergingUpdateOutcome
    /// The rate whose update is recorded (the last one tried when none diverged representably).
    public var learningRate: Double
    /// Rates tried whose diverging update overflowed float32 (inf or NaN moments).
    public var overflowedRates: [Double]
    /// Rates tried that did not diverge within `maxSteps`.
    public var nonDivergingRates: [Double]
    /// Steps at the stable rate before the large one, and that rate.
    public var stableSteps: Int
    public var stableLearningRate: Double
    // The fields below describe the update only when `outcome` is `diverged`; otherwise the update
    // fields are −1/0 and the arrays empty.
    /// The SGD step (0-based) whose update Δθ = θ_{step+1} − θ_step makes the loss exceed the threshold.
    public var updateStep: Int
    /// The loss of mini-batch `updateStep + 1` at θ_{step+1}: the first loss above the threshold (or, when
    /// the loss at initialisation already exceeded it, that loss).
    public var divergedLoss: Double
    /// True when the loss already exceeded the threshold where the large rate starts; its first update is used.
    public var divergentAtInitialization: Bool
    public var threshold: Double
    /// Mini-batch losses of steps 0…updateStep + 1 (the last one is `divergedLoss`), stable-rate steps included.
    public var lossesBefore: [Double]
    /// ‖Δθ‖₂.
    public var updateNorm: Double
    public var t: [Double]
    /// The loss of the update's mini-batch at θ + tΔθ, for each t.
    public var lossAlongUpdate: [Double]
    public var layers: [LayerMoments]
}

/// `diverging-update` (Fig. 4): trains the unnormalised network at a large rate until a mini-batch loss
/// exceeds 10³ (paper's divergence), takes the update Δθ that got it there and, on the mini-batch that
/// update was computed from, records per-channel means and variances of layers 8, 44 and 80 (conv outputs)
/// at θ + tΔθ for t on an even grid over [0, 1]. The paper does not say how its update was found beyond
/// "the update responsible for divergence", so each instance is one candidate protocol (its start, its rate
/// rule) and `diverging-update-choice` scores them against the paper's colour bars. It writes no claims:
/// the chosen candidate's claims are the choice stage's.
public struct DivergingUpdateStage: AnalysisKind, ParameterizedKind {
    public typealias Result = DivergingUpdateResult
    public static let kindName = "diverging-update"
    /// 7: a candidate protocol: the smallest-diverging rate rule, outcomes recorded instead of thrown,
    /// claims moved to `diverging-update-choice`.
    public let version = 7

    /// How a candidate picks the large rate.
    public enum RateRule: String, CaseIterable, Codable, Sendable, ParamValue {
        /// Start at `lr` and divide by `lrFactor` while the update overflows float32.
        case largestRepresentable
        /// The smallest rate of `lrGrid` whose training diverges within `maxSteps`.
        case smallestDiverging
    }

    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @ParamGroup public var optimizer = OptimizerParams()
        @Param("the network: none (the paper's), batchNorm or lastLayerOnly") public var normalization = Normalization.none
        @Param("largestRepresentable: start at lr and divide by lrFactor while the update overflows float32 (at most lrTries rates); smallestDiverging: the smallest rate of lrGrid whose training diverges within maxSteps")
        public var rateRule = RateRule.largestRepresentable
        @Param("largestRepresentable: the large learning rate that makes the network diverge (the largest tried)") public var lr = 0.1
        @Param("largestRepresentable: when the update overflows float32, divide the rate by this (√10: half a decade) and try again")
        public var lrFactor = 3.1622776601683795
        @Param("largestRepresentable: rates tried before giving up on a representable update") public var lrTries = 4
        @Param("smallestDiverging: the rates tried, smallest first")
        public var lrGrid = [1e-4, 3.1622776601683794e-4, 1e-3, 3.1622776601683794e-3, 0.01, 0.031622776601683794, 0.1]
        @Param("steps at stableLr before the large rate: gets the loss below the threshold first (0: the paper's first update)")
        public var stableSteps = 0
        @Param("the learning rate the unnormalised network trains at (paper: 1e-4)") public var stableLr = 1e-4
        @Param(TrainStage.thresholdHelp) public var threshold = 1e3
        @Param("steps at a large rate after which it counts as not diverging") public var maxSteps = 200
        @Param("layers whose channel moments are recorded") public var layers = [8, 44, 80]
        @Param("points t on [0, 1] along the update (101: one row per percent)") public var points = 101

        public init() {}
    }

    public init() {}

    /// One rate's attempt: its diverging update and the moments along it, or why there is none.
    enum Attempt {
        case diverged(DivergingUpdate, ts: [Double], moments: [LayerMoments], loss: [Double])
        case noDivergence(lastLoss: Double)
        case overflowed
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let layers = params.layers, points = params.points, depth = params.network.depth
        guard points >= 2 else { throw PipelineError.badParameter(stage: context.stage, parameter: "points", problem: "needs at least 2") }
        if let bad = layers.first(where: { $0 < 1 || $0 >= depth }) {
            throw PipelineError.badParameter(stage: context.stage, parameter: "layers", problem: "layer \(bad) is not a conv layer of ResNet-\(depth) (1…\(depth - 1))")
        }
        let assembler = try AnalysisSetup.batches(params.network, try AnalysisSetup.data(context))
        let threshold = params.threshold
        func attempt(_ lr: Double) throws -> Attempt {
            let model = try AnalysisSetup.network(params.network, normalization: params.normalization)
            var trainer = AnalysisSetup.constantRateTrainer(model, learningRate: lr, params.optimizer)
            trainer.divergenceThreshold = threshold
            switch try findDivergingUpdate(&trainer, learningRate: lr, assembler: assembler, params: params, context: context) {
            case let .failure(none): return .noDivergence(lastLoss: none.lastLoss)
            case let .success(found):
                // The end of the step first: an update whose moments overflow there is not representable,
                // and the other 100 points would be spent on a figure of NaN (the paper's bars are finite).
                guard representable(try moments(found, model: model, layers: layers, at: 1).rows) else { return .overflowed }
                let (ts, moments, loss) = try along(found, model: model, layers: layers, points: points, context: context)
                return representable(moments) ? .diverged(found, ts: ts, moments: moments, loss: loss) : .overflowed
            }
        }
        let rule = params.rateRule
        var overflowed: [Double] = [], notDiverging: [Double] = []
        var last: (lr: Double, attempt: Attempt)?
        // A smaller rate diverges no sooner, and a larger one overflows no less: the largest-representable
        // rule walks down past overflows, the smallest-diverging rule up past rates that do not diverge.
        let descending = rule == .largestRepresentable
        tries: for lr in try rates(params, stage: context.stage) {
            let a = try attempt(lr)
            last = (lr, a)
            switch a {
            case .diverged:
                break tries
            case let .noDivergence(lastLoss):
                print(String(format: "lr %g: no loss above %g within %d steps (last %.4g)", lr, threshold, params.maxSteps, lastLoss))
                notDiverging.append(lr)
                if descending { break tries }
            case .overflowed:
                print(String(format: "lr %g: the diverging update overflows float32 along the step", lr))
                overflowed.append(lr)
                if !descending { break tries }
            }
        }
        guard let (lr, final) = last else {
            throw PipelineError.badParameter(stage: context.stage, parameter: rule == .smallestDiverging ? "lrGrid" : "lrTries", problem: "no rate to try")
        }
        let result = self.result(final, lr: lr, overflowed: overflowed, notDiverging: notDiverging, params: params)
        try context.write(result, of: Self.self, claims: [])
        report(result)
    }

    /// The rates a rule tries, in its order.
    func rates(_ params: Params, stage: String) throws -> [Double] {
        if params.rateRule == .smallestDiverging {
            let grid = params.lrGrid
            guard grid.allSatisfy({ $0 > 0 }) else {
                throw PipelineError.badParameter(stage: stage, parameter: "lrGrid", problem: "rates must be positive")
            }
            return grid.sorted()
        }
        let start = params.lr, factor = params.lrFactor, tries = params.lrTries
        guard start > 0, factor > 1, tries >= 1 else {
            throw PipelineError.badParameter(stage: stage, parameter: "lrFactor", problem: "needs lr > 0, lrFactor > 1 and lrTries ≥ 1")
        }
        return (0..<tries).map { start / pow(factor, Double($0)) }
    }

    func result(_ attempt: Attempt, lr: Double, overflowed: [Double], notDiverging: [Double], params: Params) -> DivergingUpdateResult {
        var r = DivergingUpdateResult(
            depth: params.network.depth, seed: params.network.seed, rateRule: params.rateRule.rawValue, outcome: .overflowed, learningRate: lr,
            overflowedRates: overflowed, nonDivergingRates: notDiverging, stableSteps: params.stableSteps,
            stableLearningRate: params.stableLr, updateStep: -1, divergedLoss: .nan, divergentAtInitialization: false, threshold: params.threshold,
            lossesBefore: [], updateNorm: 0, t: [], lossAlongUpdate: [], layers: [])
        switch attempt {
        case .overflowed: break
        case let .noDivergence(lastLoss):
            r.outcome = .noDivergence
            r.divergedLoss = lastLoss
        case let .diverged(found, ts, moments, loss):
            r.outcome = .diverged
            r.updateStep = found.step
            r.divergedLoss = found.divergedLoss
            r.divergentAtInitialization = found.atInitialization
            r.lossesBefore = found.losses
            r.updateNorm = found.delta.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            (r.t, r.lossAlongUpdate, r.layers) = (ts, loss, moments)
        }
        return r
    }

    func report(_ r: DivergingUpdateResult) {
        print("diverging update (\(r.rateRule)): \(r.outcome.rawValue) at lr \(r.learningRate); overflowed at \(r.overflowedRates), no divergence at \(r.nonDivergingRates)")
        guard r.outcome == .diverged else { return }
        print("step \(r.updateStep); loss after it \(r.divergedLoss); losses before \(r.lossesBefore.map { String(format: "%.4g", $0) })")
        print(String(format: "loss of the update's batch: %.4g at t = 0, %.4g at t = 1; |Δθ| = %.4g",
                     r.lossAlongUpdate.first ?? .nan, r.lossAlongUpdate.last ?? .nan, r.updateNorm))
        for m in r.layers {
            let lastMeans = m.means.last ?? [], lastVars = m.variances.last ?? []
            print(String(format: "layer %d (%d channels): mean ∈ [%.3g, %.3g], variance max %.3g at t = 1; max |mean| at t = 0: %.3g",
                         m.layer, m.channels, lastMeans.min() ?? .nan, lastMeans.max() ?? .nan, lastVars.max() ?? .nan,
                         m.means.first?.map(abs).max() ?? .nan))
        }
    }

    func representable(_ moments: [LayerMoments]) -> Bool {
        moments.allSatisfy { m in m.means.allSatisfy { $0.allSatisfy(\.isFinite) } && m.variances.allSatisfy { $0.allSatisfy(\.isFinite) } }
    }

    /// The batch loss and the moments of `layers` (one row each) at θ + tΔθ.
    func moments(_ found: DivergingUpdate, model: ResNet, layers: [Int], at t: Double) throws -> (loss: Double, rows: [LayerMoments]) {
        try model.setParameters(base: found.theta, plus: Float(t), times: found.delta)
        let loss = try model.forward(images: found.batch.images, labels: found.batch.labels, mode: .training)
        return (loss, try layers.map { layer in
            let m = try model.channelMoments(layer: layer, at: .convOutput)
            return LayerMoments(layer: layer, channels: m.mean.count, means: [m.mean], variances: [m.variance])
        })
    }

    /// Per-channel moments of `layers` and the batch loss at θ + tΔθ for `points` values of t in [0, 1].
    func along(_ found: DivergingUpdate, model: ResNet, layers: [Int], points: Int,
               context: StageContext) throws -> (ts: [Double], moments: [LayerMoments], loss: [Double]) {
        let ts = (0..<points).map { Double($0) / Double(points - 1) }
        var moments = layers.map { LayerMoments(layer: $0, channels: 0, means: [], variances: []) }
        var lossAlong: [Double] = []
        for (i, t) in ts.enumerated() {
            let (loss, rows) = try self.moments(found, model: model, layers: layers, at: t)
            lossAlong.append(loss)
            for j in layers.indices {
                moments[j].channels = rows[j].channels
                moments[j].means += rows[j].means
                moments[j].variances += rows[j].variances
            }
            if i % 10 == 0 || i == points - 1 {
                context.progress(String(format: "t = %.2f: loss %.4g", t, loss), fraction: Double(i + 1) / Double(points))
            }
        }
        return (ts, moments, lossAlong)
    }

    struct DivergingUpdate {
        var step: Int
        var theta: [Float]
        var delta: [Float]
        var batch: ImageBatch
        var divergedLoss: Double
        var atInitialization: Bool
        var losses: [Double]
    }

    /// Why no update was found: the last loss when none passed the threshold within `maxSteps`.
    struct NoDivergence: Error { var lastLoss: Double }

    /// SGD from initialisation until the loss of the next mini-batch exceeds the threshold; returns the
    /// update that led there, with θ before it and its mini-batch.
    func findDivergingUpdate(_ trainer: inout Trainer, learningRate: Double, assembler: BatchAssembler, params: Params,
                             context: StageContext) throws -> Swift.Result<DivergingUpdate, NoDivergence> {
        let maxSteps = params.maxSteps
        let perEpoch = assembler.batchesPerEpoch
        var order = assembler.order(epoch: 0), orderEpoch = 0
        func batch(_ step: Int) -> ImageBatch {
            let epoch = step / perEpoch
            if epoch != orderEpoch { order = assembler.order(epoch: epoch); orderEpoch = epoch }
            return assembler.batch(epoch: epoch, index: step % perEpoch, order: order)
        }
        let model = trainer.model
        var losses: [Double] = []
        var previous: (theta: [Float], batch: ImageBatch)?
        let stableSteps = params.stableSteps, stableRate = Float(params.stableLr)
        for step in 0..<stableSteps {
            let loss = try trainer.forcedStep(batch(step), learningRate: stableRate)
            guard loss.isFinite else {
                throw PipelineError.badParameter(stage: context.stage, parameter: "stableLr", problem: "training at it overflowed at step \(step)")
            }
            losses.append(loss)
            context.progress(String(format: "steps at the stable rate: step %d, loss %.4g", step, loss))
        }
        for step in stableSteps..<(stableSteps + maxSteps) {
            let current = batch(step), theta = model.parameterVector()
            // The step is taken even when its loss diverges: at the large rate's first step that update
            // is the one the figure shows; later, the update before it is (and this one is discarded).
            let loss = try trainer.forcedStep(current, learningRate: Float(learningRate))
            losses.append(loss)
            context.progress(String(format: "lr %g, searching the diverging update: step %d, loss %.4g", learningRate, step, loss))
            if trainer.isDivergent(loss) {
                if step > stableSteps, let (before, used) = previous {
                    let delta = zip(theta, before).map { $0 - $1 }
                    return .success(DivergingUpdate(step: step - 1, theta: before, delta: delta, batch: used, divergedLoss: loss,
                                                    atInitialization: false, losses: losses))
                }
                let delta = zip(model.parameterVector(), theta).map { $0 - $1 }
                return .success(DivergingUpdate(step: step, theta: theta, delta: delta, batch: current, divergedLoss: loss,
                                                atInitialization: true, losses: losses))
            }
            previous = (theta, current)
        }
        return .failure(NoDivergence(lastLoss: losses.last ?? .nan))
    }
}
