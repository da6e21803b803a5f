import Foundation
import Pipeline
import Plot

/// Appendix K (recalled "condition number vs depth"): left, log₁₀ κ of a product of M random matrices
/// against M, median and quartiles over the draws, beside the Lyapunov rate (a line of the theory's
/// slope through the deepest median); middle, the smallest singular value the same way; right, the top
/// singular value of the unnormalised ResNet's Jacobian at initialisation against depth.
public struct AppKConditioning: FigureRecipe {
    public let id = "appK"
    public let title = "App. K"
    public let version = 1
    public let reads = [ProductConditioningStage.kindName, JacobianSpectrumStage.kindName]

    public init() {}

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let product = try context.result(of: ProductConditioningStage.self)
        let jacobian = try context.result(of: JacobianSpectrumStage.self)
        let ln10 = log(10.0)
        let m = product.rows.map { Double($0.factors) }

        var kappa = Panel(title: "condition number", x: Axis(label: "number of factors M"), y: Axis(label: "log₁₀ κ"))
        kappa.band(m, lower: product.rows.map { $0.conditionQuartiles.lower / ln10 },
                   upper: product.rows.map { $0.conditionQuartiles.upper / ln10 }, color: .tabBlue, alpha: 0.3)
        kappa.plot(m, product.rows.map { $0.conditionQuartiles.median / ln10 }, label: "median (band: quartiles)", color: .tabBlue, marker: .circle)
        if let last = product.rows.last, let first = m.first, let end = m.last {
            let anchor = last.conditionQuartiles.median / ln10, slope = product.theorySlope / ln10
            kappa.plot([first, end], [anchor - slope * (end - first), anchor],
                       label: String(format: "Lyapunov rate %.2f decades/factor", slope), color: .gray, dash: .dashed)
        }
        kappa.legend = .upperLeft

        var smallest = Panel(title: "smallest singular value", x: Axis(label: "number of factors M"), y: Axis(label: "log₁₀ σ_min"))
        smallest.band(m, lower: product.rows.map { $0.smallestQuartiles.lower / ln10 },
                      upper: product.rows.map { $0.smallestQuartiles.upper / ln10 }, color: .tabGreen, alpha: 0.3)
        smallest.plot(m, product.rows.map { $0.smallestQuartiles.median / ln10 }, label: "median (band: quartiles)", color: .tabGreen, marker: .circle)
        smallest.legend = .upperRight

        let depths = jacobian.rows.map { Double($0.depth) }
        var network = Panel(title: "ResNet w/o BN at initialisation", x: Axis(label: "depth (ResNet-n)"),
                            y: Axis(label: "σ_max of ∂logits/∂(first conv output)", scale: .log))
        network.band(depths, lower: jacobian.rows.map(\.quartiles.lower), upper: jacobian.rows.map(\.quartiles.upper), color: .tabRed, alpha: 0.3)
        network.plot(depths, jacobian.rows.map(\.quartiles.median), label: "median (band: quartiles)", color: .tabRed, marker: .circle)
        network.legend = .upperLeft

        var fig = Figure(width: 14, height: 4.4, dpi: 150, rows: 1, columns: 3)
        fig.title = RichText("Products of M Gaussian \(product.size)×\(product.size) matrices, N(0, 1/N) entries, \(product.repeats) draws; "
            + "Jacobians of \(jacobian.images) images × \(jacobian.seeds.count) initialisations")
        fig[0, 0] = kappa
        fig[0, 1] = smallest
        fig[0, 2] = network
        return [("appK-conditioning", fig)]
    }
}
