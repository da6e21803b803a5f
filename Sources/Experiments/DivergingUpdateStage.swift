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

public struct DivergingUpdateResult: Codable, Equatable, Sendable {
    public var depth: Int
    public var seed: Int
    public var learningRate: Double
    /// Larger rates tried first whose diverging update overflowed float32 (inf or NaN moments).
    public var overflowedRates: [Double]
    /// Steps at the stable rate before the large one.
    public var stableSteps: Int
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
/// at θ + tΔθ for t on an even grid over [0, 1].
public struct DivergingUpdateStage: AnalysisKind {
    public typealias Result = DivergingUpdateResult
    public static let kindName = "diverging-update"
    /// 6: Fig. 4's end scale bounded on both sides; "late" read as on a linear colour bar.
    public let version = 6
    public let parameters = AnalysisSetup.networkParameters + AnalysisSetup.optimizerParameters + [
        ParameterSpec("normalization", .string, default: "none", help: "the network: none (the paper's), batchNorm or lastLayerOnly"),
        ParameterSpec("lr", .number, default: 0.1, help: "the large learning rate that makes the network diverge (the largest tried)"),
        ParameterSpec("lrFactor", .number, default: 3.1622776601683795,
                      help: "when the update overflows float32, divide the rate by this (√10: half a decade) and try again"),
        ParameterSpec("lrTries", .integer, default: 4, help: "rates tried before the last one is kept, overflow or not"),
        ParameterSpec("stableSteps", .integer, default: 0,
                      help: "steps at stableLr before the large rate: gets the loss below the threshold first (0: the paper's first update)"),
        ParameterSpec("stableLr", .number, default: 1e-4, help: "the learning rate the unnormalised network trains at (paper: 1e-4)"),
        ParameterSpec("threshold", .number, default: 1e3, help: "divergence: a mini-batch loss above this (paper: 10³)"),
        ParameterSpec("maxSteps", .integer, default: 200, help: "give up when no update diverges within this many steps"),
        ParameterSpec("layers", .array, default: [8, 44, 80], help: "layers whose channel moments are recorded"),
        ParameterSpec("points", .integer, default: 101, help: "points t on [0, 1] along the update (101: one row per percent)"),
    ]

    public init() {}

    public enum Failure: Error, CustomStringConvertible {
        case noDivergence(stage: String, steps: Int, learningRate: Double, lastLoss: Double)
        public var description: String {
            switch self {
            case let .noDivergence(stage, steps, lr, last):
                return "stage '\(stage)': no update diverged within \(steps) steps at learning rate \(lr) (last loss \(last)); raise 'lr' or 'maxSteps'"
            }
        }
    }

    public func run(_ context: StageContext) throws {
        let normalization = try AnalysisSetup.normalization(context)
        let layers = try context.ints("layers"), points = try context.int("points")
        let depth = try context.int("depth")
        guard points >= 2 else { throw PipelineError.badParameter(stage: context.stage, parameter: "points", problem: "needs at least 2") }
        if let bad = layers.first(where: { $0 < 1 || $0 >= depth }) {
            throw PipelineError.badParameter(stage: context.stage, parameter: "layers", problem: "layer \(bad) is not a conv layer of ResNet-\(depth) (1…\(depth - 1))")
        }
        let assembler = try AnalysisSetup.batches(context, try AnalysisSetup.data(context))
        // The largest rate whose diverging update float32 can represent: a larger update overflows to
        // inf/NaN at the deep layers, and a figure of NaN shows nothing (the paper's colour bars are finite).
        var lr = try context.double("lr")
        let factor = try context.double("lrFactor"), tries = try context.int("lrTries")
        guard factor > 1, tries >= 1 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "lrFactor", problem: "needs lrFactor > 1 and lrTries ≥ 1")
        }
        let threshold = try context.double("threshold")
        func measure(at lr: Double) throws -> (found: DivergingUpdate, ts: [Double], moments: [LayerMoments], loss: [Double]) {
            let model = try AnalysisSetup.network(context, normalization: normalization)
            var trainer = try AnalysisSetup.constantRateTrainer(model, learningRate: lr, context: context)
            trainer.divergenceThreshold = threshold
            let found = try findDivergingUpdate(&trainer, learningRate: lr, assembler: assembler, context: context)
            let (ts, moments, loss) = try along(found, model: model, layers: layers, points: points, context: context)
            return (found, ts, moments, loss)
        }
        func representable(_ moments: [LayerMoments]) -> Bool {
            moments.allSatisfy { m in m.means.allSatisfy { $0.allSatisfy(\.isFinite) } && m.variances.allSatisfy { $0.allSatisfy(\.isFinite) } }
        }
        var overflowed: [Double] = []
        var (found, ts, moments, lossAlong) = try measure(at: lr)
        while !representable(moments), overflowed.count < tries - 1 {
            print(String(format: "lr %g: the diverging update overflows float32 along the step; trying lr %g", lr, lr / factor))
            overflowed.append(lr)
            lr /= factor
            (found, ts, moments, lossAlong) = try measure(at: lr)
        }
        let result = DivergingUpdateResult(
            depth: depth, seed: try context.int("seed"), learningRate: lr, overflowedRates: overflowed, stableSteps: try context.int("stableSteps"), updateStep: found.step, divergedLoss: found.divergedLoss,
            divergentAtInitialization: found.atInitialization, threshold: threshold, lossesBefore: found.losses,
            updateNorm: found.delta.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(),
            t: ts, lossAlongUpdate: lossAlong, layers: moments)
        try context.write(result, of: Self.self, claims: Self.claims(result))
        print("diverging update: step \(found.step) at lr \(lr); loss after it \(found.divergedLoss); losses before \(found.losses.map { String(format: "%.4g", $0) })")
        print(String(format: "loss of the update's batch: %.4g at t = 0, %.4g at t = 1; |Δθ| = %.4g", lossAlong.first ?? .nan, lossAlong.last ?? .nan, result.updateNorm))
        for m in moments {
            let lastMeans = m.means.last ?? [], lastVars = m.variances.last ?? []
            print(String(format: "layer %d (%d channels): mean ∈ [%.3g, %.3g], variance max %.3g at t = 1; max |mean| at t = 0: %.3g",
                         m.layer, m.channels, lastMeans.min() ?? .nan, lastMeans.max() ?? .nan, lastVars.max() ?? .nan,
                         m.means.first?.map(abs).max() ?? .nan))
        }
    }

    /// Per-channel moments of `layers` and the batch loss at θ + tΔθ for `points` values of t in [0, 1].
    func along(_ found: DivergingUpdate, model: ResNet, layers: [Int], points: Int,
               context: StageContext) throws -> (ts: [Double], moments: [LayerMoments], loss: [Double]) {
        let ts = (0..<points).map { Double($0) / Double(points - 1) }
        var moments = layers.map { LayerMoments(layer: $0, channels: 0, means: [], variances: []) }
        var lossAlong: [Double] = []
        for (i, t) in ts.enumerated() {
            try model.setParameters(base: found.theta, plus: Float(t), times: found.delta)
            lossAlong.append(try model.forward(images: found.batch.images, labels: found.batch.labels, mode: .training))
            for j in layers.indices {
                let m = try model.channelMoments(layer: layers[j], at: .convOutput)
                moments[j].channels = m.mean.count
                moments[j].means.append(m.mean)
                moments[j].variances.append(m.variance)
            }
            if i % 10 == 0 || i == points - 1 {
                context.progress(String(format: "t = %.2f: loss %.4g", t, lossAlong[i]), fraction: Double(i + 1) / Double(points))
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

    /// SGD from initialisation until the loss of the next mini-batch exceeds the threshold; returns the
    /// update that led there, with θ before it and its mini-batch.
    func findDivergingUpdate(_ trainer: inout Trainer, learningRate: Double, assembler: BatchAssembler,
                             context: StageContext) throws -> DivergingUpdate {
        let maxSteps = try context.int("maxSteps")
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
        let stableSteps = try context.int("stableSteps"), stableRate = Float(try context.double("stableLr"))
        for step in 0..<stableSteps {
            let loss = try trainer.forcedStep(batch(step), learningRate: stableRate)
            guard loss.isFinite else {
                throw PipelineError.badParameter(stage: context.stage, parameter: "stableLr", problem: "training at it overflowed at step \(step)")
            }
            losses.append(loss)
            context.progress(String(format: "steps at the stable rate: step %d, loss %.4g", step, loss))
        }
        for step in stableSteps...(stableSteps + maxSteps) {
            let current = batch(step), theta = model.parameterVector()
            // The step is taken even when its loss diverges: at the large rate's first step that update
            // is the one the figure shows; later, the update before it is (and this one is discarded).
            let loss = try trainer.forcedStep(current, learningRate: Float(learningRate))
            losses.append(loss)
            context.progress(String(format: "searching the diverging update: step %d, loss %.4g", step, loss))
            if trainer.isDivergent(loss) {
                if step > stableSteps, let (before, used) = previous {
                    let delta = zip(theta, before).map { $0 - $1 }
                    return DivergingUpdate(step: step - 1, theta: before, delta: delta, batch: used, divergedLoss: loss,
                                           atInitialization: false, losses: losses)
                }
                let delta = zip(model.parameterVector(), theta).map { $0 - $1 }
                return DivergingUpdate(step: step, theta: theta, delta: delta, batch: current, divergedLoss: loss,
                                       atInitialization: true, losses: losses)
            }
            previous = (theta, current)
        }
        throw Failure.noDivergence(stage: context.stage, steps: maxSteps, learningRate: learningRate,
                                   lastLoss: losses.last ?? .nan)
    }

    /// Fig. 4's claims (paper-notes §4, Fig. 4): at the end of the diverging update the deep layer's
    /// variances are many orders above the shallow one's, at the paper's scale, and they explode late in
    /// the step, the deeper the later. The paper's colour scales are linear, so "late" is read as a linear
    /// colour bar shows it: the first t at which a layer's largest channel variance passes 10 % of its end
    /// value (on a linear bar, the first visible colour).
    static func claims(_ r: DivergingUpdateResult) -> [Claim] {
        let source = "paper-notes §4 Fig. 4 [IMG colour bars]"
        func maxVariance(_ m: LayerMoments, _ i: Int) -> Double { m.variances[i].max() ?? .nan }
        guard let shallow = r.layers.first, let deep = r.layers.last, deep.layer != shallow.layer, let last = r.t.indices.last else { return [] }
        let ratio = maxVariance(deep, last) / maxVariance(shallow, last)
        let endScale = maxVariance(deep, last)
        let setting = "the update of step \(r.updateStep + 1)" + (r.stableSteps > 0 ? " (after \(r.stableSteps) stable steps)" : " from initialisation")
        let visible = r.layers.map { m in firstVisible(r.t, (0...last).map { maxVariance(m, $0) }) }
        let ordered = zip(visible, visible.dropFirst()).allSatisfy { a, b in a.map { a in b.map { a < $0 } ?? false } ?? false }
        let deepLate = (visible.last ?? nil).map { $0 >= 0.8 } ?? false
        let visibleText = zip(r.layers, visible).map { m, t in "layer \(m.layer): " + (t.map { String(format: "%.2f", $0) } ?? "never") }
            .joined(separator: ", ")
        return [
            Claim(id: "fig4.depth-scale", figure: "Fig. 4",
                  statement: "at the end of the diverging update, layer \(deep.layer)'s largest channel variance over layer \(shallow.layer)'s",
                  paper: "≈ 5·10¹⁶ / 1.0", source: source, ours: String(format: "%.3g", ratio), test: "ours ≥ 10⁶",
                  verdict: Claim.verdict(ratio.isFinite ? ratio >= 1e6 : false),
                  note: String(format: "%@ at lr %.3g; loss after it %.3g", setting, r.learningRate, r.divergedLoss)),
            // A bound on both sides: a net whose update overflows into any huge scale must not pass.
            Claim(id: "fig4.end-scale", figure: "Fig. 4",
                  statement: "at the end of the diverging update, layer \(deep.layer)'s largest channel variance is at the paper's scale",
                  paper: "≈ 5·10¹⁶", source: source, ours: String(format: "%.3g", endScale), test: "within 10^±3 of 5·10¹⁶",
                  verdict: Claim.verdict(endScale.isFinite && endScale >= 5e13 && endScale <= 5e19)),
            Claim(id: "fig4.late-explosion", figure: "Fig. 4",
                  statement: "the variances explode late in the step, deeper layers later: the first t at which a layer's largest channel variance passes 10 % of its end value",
                  paper: "layer 80 dark until the last 10–20 % (linear colour bars)", source: source, ours: visibleText,
                  test: "layer \(deep.layer) at t ≥ 0.8, and later for deeper layers",
                  verdict: Claim.verdict(deepLate && ordered)),
        ]
    }

    /// The first t at which `values` (along t) passes 10 % of its last value; nil when the last value is
    /// not finite and positive.
    static func firstVisible(_ t: [Double], _ values: [Double]) -> Double? {
        guard let end = values.last, end.isFinite, end > 0 else { return nil }
        return zip(t, values).first { $0.1 > 0.1 * end }?.0
    }
}

