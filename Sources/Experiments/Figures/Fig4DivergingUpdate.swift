import Foundation
import Pipeline
import Plot

/// Fig. 4: heat maps of per-channel means (top row) and variances (bottom row) at layers 8, 44, 80
/// (columns) along the diverging update of the unnormalised network: rows are the percentage of the
/// update applied (0 % at the top), columns channels; viridis, one linear colour bar per panel, as in
/// the paper.
public struct Fig4DivergingUpdate: FigureRecipe {
    public let id = "fig4"
    /// 6: each panel's title gives our range and the paper's colour-bar range.
    public let version = 6
    public let reads = [DivergingUpdateStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let input = try context.input(of: DivergingUpdateStage.self)
        let result = try context.result(of: DivergingUpdateStage.self)
        guard !result.layers.isEmpty, result.t.count >= 2 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps", problem: "the diverging-update output has no layers")
        }
        var fig = Figure(width: 11, height: 6.2, dpi: 150, rows: 2, columns: result.layers.count)
        fig.columnTitles = result.layers.map { RichText("Layer \($0.layer)") }
        fig.style.titleFontSize = 7.5
        fig.rowLabels = ["means", "variances"]
        let lr = String(format: "%.3g", result.learningRate)
        let what = result.divergentAtInitialization ? "first update at lr \(lr) (loss already above 10³)"
            : "update of step \(result.updateStep + 1) at lr \(lr), loss after it \(String(format: "%.2g", result.divergedLoss))"
        let stableRate = input.params["stableLr"]?.doubleValue.map { "\($0)" } ?? "the stable rate"
        let start = result.stableSteps > 0 ? "\(result.stableSteps) steps at lr \(stableRate), then the " : "the "
        let overflow = result.overflowedRates.isEmpty ? ""
            : " (at lr " + result.overflowedRates.map { String(format: "%g", $0) }.joined(separator: ", ") + " the update overflows float32)"
        fig.title = RichText("ResNet-\(result.depth) w/o BN: \(start)\(what)\(overflow)")
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

    /// A range end as the paper's colour bars print it: plain up to 10⁴, else mantissa·10^exponent.
    static func scale(_ v: Double) -> String {
        if abs(v) < 10 { return String(format: "%.2g", v) }
        if abs(v) < 1e4 { return String(format: "%.0f", v) }
        let e = Int(floor(log10(abs(v))))
        let superscripts: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
                                                    "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
        return String(format: "%.2g·10", v / pow(10, Double(e))) + String(String(e).map { superscripts[$0] ?? $0 })
    }
}
