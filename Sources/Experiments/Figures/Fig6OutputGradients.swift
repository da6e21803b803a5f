import Foundation
import Pipeline
import Plot

/// Fig. 6: ∂L/∂logits at initialisation as 128 × 10 heat maps, w/o BN (left) and with BN (right) as in
/// the paper, viridis, one symmetric colour range for both panels (±max|gradient|, about 1/128) so
/// that zero has the same colour on both sides.
public struct Fig6OutputGradients: FigureRecipe {
    public let id = "fig6"
    public let title = "Fig. 6"
    public let version = 2
    public let reads = [OutputGradientsStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let input = try context.input(of: OutputGradientsStage.self)
        let result = try context.result(of: OutputGradientsStage.self)
        let order = [NetworkVariant.withoutBN, .withBN]
        let maps = try order.map { v -> (values: [Double], shape: [Int]) in
            let m = try AnalysisIO.readNPY(OutputGradientsStage.logitGradients(v), from: input, in: context)
            guard m.shape.count == 2 else {
                throw AnalysisError.badInput(stage: context.stage, file: OutputGradientsStage.logitGradients(v), problem: "is not a matrix: \(m.shape)")
            }
            return m
        }
        let bound = maps.flatMap(\.values).map(abs).max() ?? 1
        var fig = Figure(width: 10, height: 3.9, dpi: 150, rows: 1, columns: 2)
        fig.style.panelGap = 30
        fig.title = RichText("ResNet-\(result.depth) at initialisation: ∂L/∂logits of mini-batch \(result.batch) (\(result.batchSize) images), "
                             + "L the batch-mean cross-entropy")
        for (c, (variant, m)) in zip(order, maps).enumerated() {
            let rows = m.shape[0], columns = m.shape[1]
            var p = Panel(title: RichText(variant.title),
                          x: Axis(label: "Class activation", tickValues: (0..<columns).map(Double.init)),
                          y: Axis(label: "Image in batch"))
            p.heatmap(rows: rows, columns: columns, values: m.values, colormap: .viridis, range: -bound...bound,
                      colorBarLabel: "Gradient")
            fig[0, c] = p
        }
        print(String(format: "fig6: colour range ±%.5f (1/128 = %.5f)", bound, 1.0 / 128))
        return [("fig6-output-gradients", fig)]
    }
}
