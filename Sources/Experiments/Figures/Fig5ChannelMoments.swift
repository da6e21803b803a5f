import Foundation
import Pipeline
import Plot

/// Fig. 5: average log magnitude (base as the stage's `logBase`) of channel means and stds against depth at initialisation, with
/// error bars (std over channels), four series as in the paper. The paper's x-axis is categorical
/// (110 sits one step after 102), so the layers are drawn at equal spacing with their numbers as labels.
public struct Fig5ChannelMoments: FigureRecipe {
    public let id = "fig5"
    public let title = "Fig. 5"
    /// 3: the paper's read-offs drawn as crosses.
    public let version = 3
    public let reads = [ChannelMomentsStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: ChannelMomentsStage.self)
        let positions = result.layers.indices.map(Double.init)
        var fig = Figure(width: 7, height: 4.6, dpi: 150)
        fig.title = RichText("ResNet-\(result.depth) at initialisation, \(result.batches)×\(result.batchSize) images; bars: std over channels")
        var p = Panel(x: Axis(label: "Layer", tickValues: positions, tickLabels: result.layers.map(String.init)),
                      y: Axis(label: RichText(result.logBase.axisLabel)))
        // Series order and colours as the paper's legend: blue, orange, green, red.
        let series: [(NetworkVariant, Bool, String, Color)] = [
            (.withBN, true, "channel means, with BN", .tabBlue), (.withBN, false, "channel stds, with BN", .tabOrange),
            (.withoutBN, true, "channel means, w/o BN", .tabGreen), (.withoutBN, false, "channel stds, w/o BN", .tabRed),
        ]
        for (i, (variant, means, label, color)) in series.enumerated() {
            guard let entries = result.networks[variant.key], entries.count == positions.count else {
                throw AnalysisError.badInput(stage: context.stage, file: ChannelMomentsStage.resultFile, problem: "has no full '\(variant.key)' series")
            }
            let s = entries.map { means ? $0.logAbsMean : $0.logStd }
            // A small sideways offset keeps the four error bars at one layer apart.
            p.errorBars(positions, s.map(\.mean), error: s.map(\.std), label: label, color: color, capSize: 0,
                        dodge: (Double(i) - 1.5) * 0.06)
        }
        // The paper's read-offs as faint crosses in the series' colours, on the paper's own axis (its base is
        // unstated; the calibration's `fig5.log-base` claim says which base ours fits).
        if result.layers == PaperNumbers.fig5Layers {
            let paper = [PaperNumbers.fig5MeansBN, PaperNumbers.fig5StdsBN, PaperNumbers.fig5MeansNoBN, PaperNumbers.fig5StdsNoBN]
            for (i, (values, (_, _, _, color))) in zip(paper, series).enumerated() {
                p.points(positions.map { $0 + (Double(i) - 1.5) * 0.06 }, values, label: i == 0 ? "×: the paper's points (read off its figure), same colours" : nil,
                         color: color.withAlpha(0.45), marker: .cross, size: 6)
            }
        }
        p.legend = .upperLeft
        p.x.limits = .fixed(-0.5, Double(positions.count) - 0.5)
        fig[0, 0] = p
        return [("fig5-channel-moments", fig)]
    }
}
