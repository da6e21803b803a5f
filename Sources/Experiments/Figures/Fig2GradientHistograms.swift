import Foundation
import Pipeline
import Plot

/// Fig. 2: histograms of layer-55 weight gradients at initialisation, with BN (left) and without
/// (right), each on its own x-scale, as the paper's two panels. Counts come from `gradient-histogram`.
public struct Fig2GradientHistograms: FigureRecipe {
    public let id = "fig2"
    public let title = "Fig. 2"
    public let version = 2
    public let reads = [GradientHistogramStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: GradientHistogramStage.self)
        var fig = Figure(width: 10.5, height: 3.9, dpi: 150, rows: 1, columns: 2)
        fig.style.panelGap = 28
        // Honest about what is pooled (the paper does not say; see GradientHistogramStage).
        let pooled = result.batches == 1 ? "one mini-batch of \(result.batchSize)"
            : "\(result.batches) mini-batches of \(result.batchSize) pooled, \(result.batches) × \(result.weightsPerBatch) values"
        fig.title = RichText("ResNet-\(result.depth), layer \(result.layer) weight gradients at initialisation (\(pooled))")
        for (c, variant) in [NetworkVariant.withBN, .withoutBN].enumerated() {
            guard let h = result.histograms[variant.key] else {
                throw AnalysisError.badInput(stage: context.stage, file: GradientHistogramStage.resultFile, problem: "has no '\(variant.key)' histogram")
            }
            let std = result.summaries[variant.key]?.std ?? .nan
            var p = Panel(title: RichText(String(format: "%@ (std %.2g)", variant.title, std)), x: Axis(label: "gradient magnitude"),
                          y: Axis(label: "counts"))
            p.histogram(edges: h.edges, counts: h.counts, color: .tabBlue)
            // The data's own range, as the paper's panels (no padding past the extreme values).
            if let lo = h.edges.first, let hi = h.edges.last { p.x.limits = .fixed(lo, hi) }
            p.legend = .none
            fig[0, c] = p
        }
        print("fig2: \(pooled)")
        return [("fig2-gradient-histograms", fig)]
    }
}
