import Foundation
import Pipeline
import Plot

/// Fig. 8: histograms of the pooled singular values of products of one, three and five random matrices,
/// overlaid and semi-transparent, in three panels that each zoom into the previous one (frames and
/// connector lines as in the paper). Each histogram carries, as a dashed step line in its colour, the
/// counts Theorem 1 predicts for its bins: a check that the empirical spectra are the theoretical ones.
public struct Fig8RandomMatrixHistograms: FigureRecipe {
    public let id = "fig8"
    public let title = "Fig. 8"
    /// 5: the paper's support edges as dotted lines.
    public let version = 5
    public let reads = [RandomMatricesStage.kindName]

    public init() {}

    static func name(_ m: Int) -> String {
        let words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
        let count = m >= 1 && m <= words.count ? words[m - 1] : "\(m)"
        return m == 1 ? "one matrix" : "\(count) matrices"
    }

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: RandomMatricesStage.self)
        // Widest spectrum first in the legend order of the paper: one, three, five matrices.
        let sets = result.histograms.sorted { $0.products < $1.products }
        guard !sets.isEmpty else {
            throw AnalysisError.badInput(stage: context.stage, file: RandomMatricesStage.resultFile, problem: "has no histograms")
        }
        let columns = sets.count
        var fig = Figure(width: 4 * Double(columns), height: 3.6, dpi: 150, rows: 1, columns: columns)
        fig.title = RichText("Products of M Gaussian \(result.size)×\(result.size) matrices, \(result.repeats) draws per M; dashed: Theorem 1")
        fig.style.panelGap = 46
        for c in 0..<columns {
            var p = Panel(x: Axis(label: "singular value"), y: Axis(label: "counts"))
            for (i, h) in sets.enumerated() where i < columns - c {
                let color = Color.cycle(i)
                p.histogram(edges: h.edges, counts: h.counts, label: Self.name(h.products), color: color, alpha: 0.5)
                let step = Self.steps(edges: h.edges, values: h.expected)
                p.plot(step.x, step.y, color: color, width: 1.1, dash: .dashed)
                // The support edge the paper's histograms end at (PaperNumbers, √((M+1)^(M+1)/M^M)).
                if let edge = PaperNumbers.singularValueEdges[h.products] { p.reference(.vertical, at: edge, color: color.withAlpha(0.7), dash: .dotted) }
            }
            // One legend entry for all dashed theory lines (a line without points draws nothing else).
            p.plot([], [], label: "Theorem 1, N → ∞ (dashed)", color: .black, width: 1.1, dash: .dashed)
            p.plot([], [], label: "paper: support edge (dotted)", color: .black, width: 1.1, dash: .dotted)
            p.legend = .upperRight
            if c == 0 {
                // Headroom above the highest bar keeps the legend clear of the zoom frame below it.
                let top = sets.flatMap { $0.counts + $0.expected }.max() ?? 1
                p.y.limits = .fixed(0, top * 1.45)
            }
            fig[0, c] = p
        }
        // Panel c + 1 is the frame around the sets it keeps: up to their right edge and 30 % above their
        // highest bar, which leaves the legend room above the bars.
        for c in 0..<(columns - 1) {
            let kept = sets.prefix(columns - c - 1)
            let right = kept.compactMap(\.edges.last).max() ?? 1
            let top = kept.flatMap { $0.counts + $0.expected }.max() ?? 1
            fig.zoom(from: PanelIndex(0, c), x: (-0.025 * right)...(right * 1.025), y: 0...(top * 1.3), to: PanelIndex(0, c + 1))
        }
        let total = result.repeats * result.size
        print("fig8: \(sets.count) histograms of \(total) singular values each (\(result.repeats) products of \(result.size)×\(result.size))")
        return [("fig8-random-matrix-singular-values", fig)]
    }

    /// A histogram-like step outline through per-bin values.
    static func steps(edges: [Double], values: [Double]) -> (x: [Double], y: [Double]) {
        var x: [Double] = [], y: [Double] = []
        for (i, v) in values.enumerated() where i + 1 < edges.count {
            x += [edges[i], edges[i + 1]]
            y += [v, v]
        }
        return (x, y)
    }
}
