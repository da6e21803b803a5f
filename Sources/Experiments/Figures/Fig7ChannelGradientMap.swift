import Foundation
import Pipeline
import Plot

/// Fig. 7: M[i,o] = Σ_{x',y'} |∂L/∂K[o,i,x',y']| of layer 45 at initialisation, w/o BN (left) and with
/// BN (right). The gradients differ by orders of magnitude between the networks, so each panel has its
/// own colour bar from 0 to its maximum; what is compared is the structure (whole rows and columns
/// bright without BN: a dominant low-rank component), which each panel's title quantifies as the share of
/// ‖M‖²_F left outside M's best rank-one approximation (small: low-rank).
public struct Fig7ChannelGradientMap: FigureRecipe {
    public let id = "fig7"
    public let title = "Fig. 7 and Table 1"
    public func claimLabel(id: String) -> String { id.hasPrefix("table1.") ? "Table 1" : "Fig. 7" }
    public let version = 3
    public let reads = [GradientCoherenceStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let input = try context.input(of: GradientCoherenceStage.self)
        let result = try context.result(of: GradientCoherenceStage.self)
        var fig = Figure(width: 10, height: 4.4, dpi: 150, rows: 1, columns: 2)
        fig.style.panelGap = 30
        var layer = 0
        for (c, variant) in [NetworkVariant.withoutBN, .withBN].enumerated() {
            let file = GradientCoherenceStage.channelMap(variant)
            let m = try AnalysisIO.readNPY(file, from: input, in: context)
            guard m.shape.count == 2, let summary = result.maps.first(where: { $0.network == variant.key }) else {
                throw AnalysisError.badInput(stage: context.stage, file: file, problem: "is not a matrix with a summary in \(GradientCoherenceStage.resultFile)")
            }
            layer = summary.layer
            let title = String(format: "%@: %.2g%% of ‖M‖² outside the best rank-one fit", variant.title,
                               100 * (1 - summary.rankOneEnergy))
            var p = Panel(title: RichText(title), x: Axis(label: "out-channel"), y: Axis(label: "in-channel"))
            p.heatmap(rows: m.shape[0], columns: m.shape[1], values: m.values, colormap: .viridis,
                      range: 0...max(m.values.max() ?? 1, .leastNormalMagnitude), colorBarLabel: "Σ |∂L/∂K| over the 3×3 kernel")
            fig[0, c] = p
        }
        fig.title = RichText("ResNet-\(result.depth), layer \(layer): weight-gradient magnitude per (in, out) channel at initialisation, "
                             + "mini-batch \(result.batch) of \(result.batchSize)")
        return [("fig7-channel-gradient-map", fig)]
    }
}
