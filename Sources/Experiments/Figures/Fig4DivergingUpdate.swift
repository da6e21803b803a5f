import Foundation
import Pipeline
import Plot

/// Fig. 4: heat maps of per-channel means (top row) and variances (bottom row) at layers 8, 44, 80
/// (columns) along the diverging update of the unnormalised network: rows are the percentage of the
/// update applied (0 % at the top), columns channels; viridis, one linear colour bar per panel, as in
/// the paper.
public struct Fig4DivergingUpdate: FigureRecipe {
    public let id = "fig4"
    public let version = 5
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
                panel.heatmap(rows: rows, columns: layer.channels, values: grid.flatMap { $0 })
                fig[row, column] = panel
            }
        }
        return [("fig4-diverging-update-moments", fig)]
    }
}
