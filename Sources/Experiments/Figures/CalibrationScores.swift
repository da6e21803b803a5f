import Foundation
import Pipeline
import NN
import Plot

/// The calibration's scores: one row per set-up variant, best first, one column per term of the score
/// and its total (lower is better, as `CalibrationStage` defines them). The chosen row is named in the
/// title; infinite scores (a network that overflowed) are drawn at the top of the colour range.
public struct CalibrationScores: FigureRecipe {
    public let id = "calibration-figure"
    public let title = "Set-up calibration"
    public func claimLabel(id: String) -> String { "Set-up" }
    public let version = 2
    public let reads = [CalibrationStage.kindName]

    public init() {}

    static func short(_ s: NetworkSetup) -> String {
        let pre = s.preprocessing == .pixelMean ? "pixel mean" : "channel std"
        func initName(_ i: Initialization) -> String {
            switch i { case .heNormal: return "He"; case .xavierNormal: return "Xavier"; case .pytorchDefault: return "PyTorch" }
        }
        let shortcut = ["optionA": "A", "optionASplit": "A-split", "optionB": "B"][s.shortcut.rawValue] ?? s.shortcut.rawValue
        return "\(pre) · \(initName(s.initialization)) · \(initName(s.linearInitialization)) · \(shortcut)"
            + (s.initGain == 1 ? "" : String(format: " · gain %g", s.initGain))
    }

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: CalibrationStage.self)
        // Rows with the training term first (only they can be chosen), each group by total.
        let order = result.variants.indices.sorted { (result.variants[$0].training == nil ? 1 : 0, result.variants[$0].total, $0)
            < (result.variants[$1].training == nil ? 1 : 0, result.variants[$1].total, $1) }
        let columns = ["Fig. 5", "Fig. 2", "Fig. 6", "logits", "training", "total"]
        var values: [Double] = []
        for i in order {
            let v = result.variants[i], s = v.score
            // A row without the training term shows 0 there and is labelled "static only".
            values += [s.fig5, s.fig2, s.fig6, s.logits, v.training?.term ?? 0, v.total]
        }
        let top = values.filter(\.isFinite).max() ?? 1
        let rows = order.count
        var fig = Figure(width: 9, height: max(3.5, 1.2 + 0.16 * Double(rows)), dpi: 150)
        let chosen = result.variants[result.best]
        fig.title = RichText(String(format: "ResNet-%d at init., %d×%d images: chosen %@ (%.2f)",
                                    result.depth, result.batches, result.batchSize, Self.short(chosen.setup), chosen.total))
        var p = Panel(x: Axis(label: "score term (lower is better)", tickValues: columns.indices.map(Double.init), tickLabels: columns),
                      y: Axis(label: "preprocessing · conv init · final init · shortcut", tickValues: (0..<rows).map(Double.init),
                              tickLabels: order.map { Self.short(result.variants[$0].setup) + (result.variants[$0].training == nil ? " (static only)" : "")
                                + ($0 == result.best ? "  ◀" : "") }))
        p.heatmap(rows: rows, columns: columns.count, values: values.map { $0.isFinite ? $0 : top }, colormap: .viridis,
                  range: 0...max(top, 1e-9), colorBarLabel: "distance to the paper")
        fig[0, 0] = p
        return [("calibration-scores", fig)]
    }
}
