import Foundation
import Pipeline
import Plot

/// Fig. 5: average log₁₀ magnitude of channel means and stds against depth at initialisation, with
/// error bars (std over channels), four series as in the paper. The paper's x-axis is categorical
/// (110 sits one step after 102), so the layers are drawn at equal spacing with their numbers as labels.
public struct Fig5ChannelMoments: FigureRecipe {
    public let id = "fig5"
    public let version = 1

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let input = try AnalysisIO.input(context, kind: "channel-moments")
        let result = try AnalysisIO.readJSON(ChannelMomentsStage.Result.self, "moments.json", from: input, in: context)
        let positions = result.layers.indices.map(Double.init)
        var fig = Figure(width: 7, height: 4.4, dpi: 150)
        var p = Panel(x: Axis(label: "Layer", tickValues: positions, tickLabels: result.layers.map(String.init)),
                      y: Axis(label: "Log₁₀ [ magnitude ]"))
        // Series order and colours as the paper's legend: blue, orange, green, red.
        let series: [(NetworkVariant, Bool, String, Color)] = [
            (.withBN, true, "channel means, with BN", .tabBlue), (.withBN, false, "channel stds, with BN", .tabOrange),
            (.withoutBN, true, "channel means, w/o BN", .tabGreen), (.withoutBN, false, "channel stds, w/o BN", .tabRed),
        ]
        for (i, (variant, means, label, color)) in series.enumerated() {
            guard let entries = result.networks[variant.key], entries.count == positions.count else {
                throw AnalysisError.badInput(stage: context.stage, file: "moments.json", problem: "has no full '\(variant.key)' series")
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
