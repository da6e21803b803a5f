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
