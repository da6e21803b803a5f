import Foundation
import Pipeline
import Plot

/// Fig. 4: heat maps of per-channel means (top row) and variances (bottom row) at layers 8, 44, 80
/// (columns) along the diverging update of the unnormalised network: rows are the percentage of the
/// update applied (0 % at the top), columns channels; viridis, one linear colour bar per panel, as in
/// the paper.
public struct Fig4DivergingUpdate: FigureRecipe {
    public let id = "fig4"
    public let title = "Fig. 4"
    /// 8: draws the protocol `diverging-update-choice` chose, and says which; minus signs in the titles.
    public let version = 8
    public let reads = [DivergingUpdateChoiceStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let choice = try context.result(of: DivergingUpdateChoiceStage.self)
        let result = choice.chosen
        guard !result.layers.isEmpty, result.t.count >= 2 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps", problem: "the diverging-update output has no layers")
        }
        var fig = Figure(width: 11, height: 6.2, dpi: 150, rows: 2, columns: result.layers.count)
        fig.columnTitles = result.layers.map { RichText("Layer \($0.layer)") }
        fig.style.titleFontSize = 7.5
        fig.rowLabels = ["means", "variances"]
        let lr = String(format: "%.3g", result.learningRate)
        let start = result.stableSteps > 0 ? " after \(result.stableSteps) at \(String(format: "%g", result.stableLearningRate))" : " from init."
        let loss = result.divergentAtInitialization ? "loss already > 10³" : "loss then \(String(format: "%.2g", result.divergedLoss))"
        let overflow = result.overflowedRates.isEmpty ? ""
            : "; " + result.overflowedRates.map { String(format: "%g", $0) }.joined(separator: ", ") + " overflow"
        let score = choice.candidates.first { $0.stage == choice.chosenStage }?.score.map { String(format: "%.1f", $0) } ?? "–"
        fig.title = RichText("ResNet-\(result.depth) w/o BN, step \(result.updateStep + 1) at lr \(lr)\(start) (\(loss)\(overflow)); "
                             + "best of \(choice.candidates.count) protocols, \(score) decades off the paper's bars")
        let rows = result.t.count
        // Row i is t_i; label the axis in % of the step at the rows nearest 0, 20, …, 100 %.
        let percents = stride(from: 0.0, through: 100.0, by: 20.0).map { $0 }
        let tickRows = percents.map { p in Double(result.t.indices.min { abs(result.t[$0] * 100 - p) < abs(result.t[$1] * 100 - p) } ?? 0) }
        for (column, layer) in result.layers.enumerated() {
            for (row, grid) in [layer.means, layer.variances].enumerated() {
                var panel = Panel(x: Axis(label: row == 1 ? "channel" : nil),
                                  y: Axis(label: column == 0 ? "% of step" : nil, tickValues: tickRows,
                                          tickLabels: percents.map { String(Int($0)) }))
                let values = grid.flatMap { $0 }
                panel.heatmap(rows: rows, columns: layer.channels, values: values)
                // The paper's colour bar beside our range: the end scales compare at a glance.
                if let paper = PaperNumbers.fig4Ranges[layer.layer] {
                    let finite = values.filter(\.isFinite)
                    let ours = finite.isEmpty ? "not finite" : "\(Self.scale(finite.min() ?? 0))…\(Self.scale(finite.max() ?? 0))"
                    panel.title = RichText("\(row == 0 ? "mean" : "var") ours \(ours), paper \(row == 0 ? paper.means : paper.variances)")
                }
                fig[row, column] = panel
            }
        }
        return [("fig4-diverging-update-moments", fig)]
    }

    /// A range end as the paper's colour bars print it: plain from 10⁻³ up to 10⁴, else mantissa·10^exponent.
    static func scale(_ v: Double) -> String {
        let text: String
        if v == 0 || (abs(v) >= 1e-3 && abs(v) < 10) {
            text = String(format: "%.2g", v)
        } else if abs(v) >= 10 && abs(v) < 1e4 {
            text = String(format: "%.0f", v)
        } else {
            let e = Int(floor(log10(abs(v))))
            text = String(format: "%.2g·", v / pow(10, Double(e))) + RichText.powerOfTen(e).plain
        }
        // The paper's colour bars (and ours beside them) print a minus sign, not a hyphen.
        return text.replacingOccurrences(of: "-", with: "−")
    }
}
