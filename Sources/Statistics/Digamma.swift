import Foundation

/// ψ(x) = d/dx log Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 6, then the
/// asymptotic series (error below 10⁻¹² there). The Lyapunov exponents of products of Gaussian
/// matrices are digamma values (Newman 1986).
public func digamma(_ x: Double) -> Double {
    precondition(x > 0, "digamma is only needed for positive arguments")
    var x = x, shift = 0.0
    while x < 6 { shift -= 1 / x; x += 1 }
    let f = 1 / (x * x)
    let series = log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))
    return shift + series
}

/// Least-squares line y = intercept + slope·x and its coefficient of determination R².
public struct LinearFit: Equatable, Sendable, Codable {
    public let slope: Double
    public let intercept: Double
    public let rSquared: Double

    public init(x: [Double], y: [Double]) {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        slope = sxx > 0 ? sxy / sxx : .nan
        intercept = my - slope * mx
        rSquared = syy > 0 ? sxy * sxy / (sxx * syy) : 1
    }
}
