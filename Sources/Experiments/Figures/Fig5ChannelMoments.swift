import Foundation
import Pipeline
import Plot

/// Fig. 5: average log magnitude (base as the stage's `logBase`) of channel means and stds against depth at initialisation, with
/// error bars (std over channels), four series as in the paper. The paper's x-axis is categorical
/// (110 sits one step after 102), so the layers are drawn at equal spacing with their numbers as labels.
public struct Fig5ChannelMoments: FigureRecipe {
    public let id = "fig5"
    public let version = 2
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
        p.legend = .upperLeft
        p.x.limits = .fixed(-0.5, Double(positions.count) - 0.5)
        fig[0, 0] = p
        return [("fig5-channel-moments", fig)]
    }
}
