import Foundation

/// Theorem 1 of the paper (Liu, Wang & Zhang): the limiting density of the squared singular values
/// x of a product of M independent N×N Gaussian matrices with N(0, 1/N) entries, as N → ∞. It is the
/// Fuss–Catalan density, given on its support (0, (M+1)^{M+1}/M^M) through φ ∈ (0, π/(M+1)):
///   x(φ) = sin^{M+1}((M+1)φ) / (sin φ · sin^M(Mφ)),
///   ρ(x(φ)) = (1/π) · sin²φ · sin^{M−1}(Mφ) / sin^M((M+1)φ).
/// For M = 1 this is Marchenko–Pastur with ratio 1: ρ(x) = √(4 − x) / (2π√x). Singular values s = √x
/// have density ρ_s(s) = 2s·ρ(s²).
public struct FussCatalan: Sendable {
    public let products: Int

    public init(products: Int) { self.products = products }

    /// Right end of the support of the squared singular values.
    public var maxSquared: Double {
        let m = Double(products)
        return pow(m + 1, m + 1) / pow(m, m)
    }

    public var maxSingular: Double { maxSquared.squareRoot() }

    public func x(_ phi: Double) -> Double {
        let m = Double(products)
        return pow(sin((m + 1) * phi), m + 1) / (sin(phi) * pow(sin(m * phi), m))
    }

    public func density(_ phi: Double) -> Double {
        let m = Double(products)
        return sin(phi) * sin(phi) * pow(sin(m * phi), m - 1) / (Double.pi * pow(sin((m + 1) * phi), m))
    }

    /// Sampled curve at `points` values of φ strictly inside (0, π/(M+1)) (midpoints, so no end point
    /// where the formulas are 0/0): x, ρ(x), s = √x and ρ_s(s), ordered by increasing x.
    public func curve(points: Int) -> (x: [Double], densityX: [Double], s: [Double], densityS: [Double]) {
        let end = Double.pi / Double(products + 1)
        var x: [Double] = [], rx: [Double] = []
        for k in stride(from: points - 1, through: 0, by: -1) {
            let phi = end * (Double(k) + 0.5) / Double(points)
            x.append(self.x(phi)); rx.append(density(phi))
        }
        let s = x.map { $0.squareRoot() }
        return (x, rx, s, zip(s, rx).map { 2 * $0 * $1 })
    }

    /// |dx/dφ|, from d ln x/dφ = (M+1)² cot((M+1)φ) − cot φ − M² cot(Mφ).
    public func xDerivativeMagnitude(_ phi: Double) -> Double {
        let m = Double(products)
        let dlog = (m + 1) * (m + 1) / tan((m + 1) * phi) - 1 / tan(phi) - m * m / tan(m * phi)
        return abs(x(phi) * dlog)
    }

    /// Mass of the law above x(φ_k) at φ_k = k·h, k = 0…steps, h = (π/(M+1))/steps, by the midpoint
    /// rule on ρ(x(φ))·|x′(φ)|: that integrand is bounded at both ends of the φ interval (ρ diverges
    /// at x → 0 only as fast as x′ vanishes), where in x or s it is not.
    func massAbove(steps: Int) -> (phis: [Double], mass: [Double]) {
        let h = Double.pi / Double(products + 1) / Double(steps)
        var phis = [0.0], mass = [0.0], total = 0.0
        for k in 0..<steps {
            let mid = (Double(k) + 0.5) * h
            total += density(mid) * xDerivativeMagnitude(mid) * h
            phis.append(Double(k + 1) * h)
            mass.append(total)
        }
        return (phis, mass)
    }

    /// Total mass of the density (1 up to discretisation; a check of the formulas).
    public func totalMass(steps: Int = 20_000) -> Double { massAbove(steps: steps).mass.last ?? 0 }

    /// P(s ≤ t) for every singular value t in `edges`, normalised by the computed total mass.
    public func cumulative(atSingularValues edges: [Double], steps: Int = 20_000) -> [Double] {
        let (phis, above) = massAbove(steps: steps)
        let total = above.last ?? 1
        // x(φ_k) decreases with k: x(φ_0) is the top of the support, x(φ_steps) = 0.
        let xs = phis.enumerated().map { k, phi in k == 0 ? maxSquared : (k == phis.count - 1 ? 0 : x(phi)) }
        return edges.map { t in
            let target = t * t
            if target >= maxSquared { return 1 }
            if target <= 0 { return 0 }
            var lo = 0, hi = xs.count - 1   // invariant: xs[lo] > target ≥ xs[hi]
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if xs[mid] > target { lo = mid } else { hi = mid }
            }
            // Linear interpolation in x between the two bracketing grid points.
            let f = (xs[lo] - target) / (xs[lo] - xs[hi])
            return 1 - (above[lo] + f * (above[hi] - above[lo])) / total
        }
    }
}
