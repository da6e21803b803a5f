import Foundation
import Pipeline
import Plot

/// Fig. 9 (the paper's theoretical figure, layout not retrieved): the limiting densities of Theorem 1
/// for the same M as Fig. 8. Left, the density of singular values s (what Fig. 8 histograms), on linear
/// axes; right, the density of squared singular values x = s² on log–log axes, where the blow-up
/// x^{−M/(M+1)} at the origin is a straight line whose slope steepens with M, and the support's right
/// end (M+1)^{M+1}/M^M grows with M.
public struct Fig9FussCatalanDensity: FigureRecipe {
    public let id = "fig9"
    public let title = "Fig. 9"
    public let version = 1
    public let reads = [RandomMatricesStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let result = try context.result(of: RandomMatricesStage.self)
        let curves = result.theory.sorted { $0.products < $1.products }
        guard !curves.isEmpty else { throw AnalysisError.badInput(stage: context.stage, file: RandomMatricesStage.resultFile, problem: "has no theory curves") }
        var fig = Figure(width: 10.5, height: 3.9, dpi: 150, rows: 1, columns: 2)
        fig.style.panelGap = 36
        var linear = Panel(title: "density of singular values s", x: Axis(label: "singular value s"), y: Axis(label: "density ρ(s)"))
        var loglog = Panel(title: "density of squared singular values x = s²",
                           x: Axis(label: "squared singular value x", scale: .log), y: Axis(label: "density ρ(x)", scale: .log))
        for (i, c) in curves.enumerated() {
            let label = "M = \(c.products) (\(Fig8RandomMatrixHistograms.name(c.products)))"
            linear.plot(c.s, c.densityS, label: label, color: Color.cycle(i))
            let positive = zip(c.x, c.densityX).filter { $0.0 > 1e-6 && $0.1 > 0 }
            loglog.plot(positive.map(\.0), positive.map(\.1), label: label, color: Color.cycle(i))
        }
        // The densities diverge at 0 (except for M = 1 in s); a fixed top keeps the bulk readable.
        let edge = curves.map(\.maxSingular).max() ?? 2
        linear.x.limits = .fixed(0, edge * 1.03)
        linear.y.limits = .fixed(0, 1.5)
        linear.legend = .upperRight
        loglog.x.limits = .fixed(1e-5, edge * edge * 1.5)
        loglog.legend = .lowerLeft
        fig[0, 0] = linear
        fig[0, 1] = loglog
        fig.title = RichText("Theorem 1: limiting singular-value densities of products of M Gaussian N×N matrices, entries N(0, 1/N)")
        return [("fig9-fuss-catalan-density", fig)]
    }
}
