import Foundation
import NN
import Pipeline
import Plot

/// Fig. 3: relative loss vs step size along the gradient, mini-batches 1, 4, 7 (columns), with BN (top
/// row) and without (bottom row), log-log. The no-BN row has the paper's fixed 10⁻²…10⁶ range; losses
/// that overflowed are drawn above the axes, so the curve leaves the top as in the paper.
public struct Fig3RelativeLoss: FigureRecipe {
    public let id = "fig3"
    public let title = "Fig. 3"
    /// 3: the paper's explosion steps drawn at mini-batches 4 and 7.
    public let version = 3
    public let reads = [RelativeLossStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: RelativeLossStage.self)
        let batches = Array(Set(result.curves.map(\.miniBatch))).sorted()
        guard !batches.isEmpty else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps", problem: "the relative-loss output has no curves")
        }
        var fig = Figure(width: 10, height: 5.2, dpi: 150, rows: 2, columns: batches.count)
        fig.columnTitles = batches.map { RichText("mini-batch \($0)") }
        fig.rowLabels = ["with BN", "w/o BN"]
        func rate(_ n: Normalization) -> String { result.curves.first { $0.normalization == n }.map { "\($0.learningRate)" } ?? "?" }
        fig.title = RichText("ResNet-\(result.depth), batch \(result.batchSize): loss after a step s along the gradient / before; "
                             + "k − 1 steps first at lr \(rate(.batchNorm)) (BN), \(rate(.none)) (w/o)")
        let steps = result.curves.flatMap(\.stepSizes)
        let xRange = (steps.min() ?? 1e-5, steps.max() ?? 0.2)
        for (row, normalization) in [Normalization.batchNorm, .none].enumerated() {
            for (column, k) in batches.enumerated() {
                var panel = Panel(x: Axis(label: row == 1 ? "step size" : nil, scale: .log, limits: .fixed(xRange.0 * 0.8, xRange.1 * 1.25)),
                                  y: Axis(label: column == 0 ? "relative loss" : nil, scale: .log))
                panel.legend = .none
                guard let curve = result.curves.first(where: { $0.normalization == normalization && $0.miniBatch == k }) else {
                    fig[row, column] = panel
                    continue
                }
                panel.reference(.horizontal, at: 1, color: .gray, dash: .dotted)
                if normalization == .none {
                    panel.y.limits = .fixed(1e-2, 1e6)
                    panel.reference(.horizontal, at: curve.baseLoss > 0 ? 1e3 / curve.baseLoss : 1e3, color: .gray, dash: .dashed,
                                    label: column == 0 ? "loss = 10³ (divergence)" : nil)
                    // Where the paper's curve passes 10⁶ (mini-batches 4 and 7 only; PaperNumbers).
                    if let s = PaperNumbers.fig3ExplosionSteps[k] {
                        panel.reference(.vertical, at: s, color: Color.tabRed.withAlpha(0.6), dash: .dashed,
                                        label: String(format: "paper: r passes 10⁶ at s ≈ %g", s))
                    }
                    if column == 0 || PaperNumbers.fig3ExplosionSteps[k] != nil { panel.legend = .upperLeft }
                }
                // An overflowed loss (inf or NaN) is off the scale: draw it far above the top.
                let r = curve.relativeLoss.map { $0.isFinite ? $0 : 1e30 }
                panel.plot(curve.stepSizes, r, color: .tabBlue)
                fig[row, column] = panel
            }
        }
        return [("fig3-relative-loss", fig)]
    }
}
