import Foundation
import NN
import Pipeline
import Plot

/// Fig. 3's diagnosis (not a figure of the paper): over the first SGD steps at the paper's rates, with
/// BN (top row) and without (bottom row): the gradient norm per part of the network, the share of live
/// ReLUs per stage, the logits' size and their spread across images, and each part's update relative
/// to its weights. A collapsed net shows a vanishing logit spread and gradient.
public struct Fig3FirstSteps: FigureRecipe {
    public let id = "fig3-steps"
    public let title = "Fig. 3's first steps"
    public func claimLabel(id: String) -> String { "Fig. 3" }
    public let version = 1
    public let reads = [FirstStepsStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: FirstStepsStage.self)
        guard !result.runs.isEmpty else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps", problem: "the first-steps output has no runs")
        }
        var fig = Figure(width: 14, height: 6.4, dpi: 150, rows: result.runs.count, columns: 4)
        fig.columnTitles = ["‖∇L‖ per part", "live ReLUs (share > 0)", "logits", "‖Δθ‖ / ‖θ‖ per part (median layer)"]
        fig.rowLabels = result.runs.map { RichText(($0.normalization == .none ? "w/o BN" : "with BN") + ", lr \($0.learningRate)") }
        fig.title = RichText("Fig. 3's first steps, before each: ResNet-\(result.depth), batch \(result.batchSize), seed \(result.seed), \(result.setup)")
        let config = try ResNetConfig(depth: result.depth, normalization: .none)
        for (row, run) in result.runs.enumerated() {
            let x = run.steps.map { Double($0.miniBatch) }
            func panel(log: Bool) -> Panel {
                var p = Panel(x: Axis(label: row == result.runs.count - 1 ? "mini-batch" : nil),
                              y: Axis(scale: log ? .log : .linear))
                p.legend = row == 0 ? .best : .none
                return p
            }
            var gradients = panel(log: true)
            for (g, name) in StepDiagnostics.groups.enumerated() {
                gradients.plot(x, run.steps.map { Self.positive($0.gradientNormByGroup[g]) }, label: name, color: Color.tab10[g], marker: .circle)
            }
            var live = panel(log: false)
            live.y.limits = .fixed(0, 1)
            for (g, name) in StepDiagnostics.groups.dropLast().enumerated() {
                live.plot(x, run.steps.map { $0.positiveFraction[g] }, label: name, color: Color.tab10[g], marker: .circle)
            }
            var logits = panel(log: true)
            logits.plot(x, run.steps.map { Self.positive($0.logitRMS) }, label: "RMS", color: .tabBlue, marker: .circle)
            logits.plot(x, run.steps.map { Self.positive($0.logitSpread) }, label: "spread across images", color: .tabRed, marker: .circle)
            logits.plot(x, run.steps.map { Self.positive($0.loss) }, label: "loss", color: .gray, dash: .dashed)
            var updates = panel(log: true)
            let updated = run.steps.filter { $0.updateRatioByLayer != nil }
            for (g, name) in StepDiagnostics.groups.enumerated() {
                let medians = updated.map { d -> Double in
                    let ratios = (d.updateRatioByLayer ?? []).enumerated()
                        .filter { StepDiagnostics.group(layer: $0.offset + 1, config: config) == g }.map(\.element).sorted()
                    return ratios.isEmpty ? .nan : Self.positive(ratios[ratios.count / 2])
                }
                updates.plot(updated.map { Double($0.miniBatch) }, medians, label: name, color: Color.tab10[g], marker: .circle)
            }
            for (column, p) in [gradients, live, logits, updates].enumerated() { fig[row, column] = p }
        }
        return [("fig3-first-steps", fig)]
    }

    /// Zero (a dead part) drawn at the bottom of a log axis instead of dropped.
    static func positive(_ v: Double) -> Double { v > 0 ? v : 1e-12 }
}
