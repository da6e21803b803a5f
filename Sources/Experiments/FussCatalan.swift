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

    /// The probability of s ≤ t for every t in `edges` (singular values), from ∫ρ(x(φ))|x′(φ)|dφ: in φ
    /// the integrand is bounded at both ends, where in x or s the density diverges at 0.
    public func cumulative(atSingularValues edges: [Double], steps: Int = 20_000) -> [Double] {
        let end = Double.pi / Double(products + 1), h = end / Double(steps)
        // phi from the top of the support (φ → 0, x max) down to x → 0 (φ → end): accumulate mass above.
        var phis: [Double] = [], above: [Double] = [], mass = 0.0
        var previousX = maxSquared, previousPhi = 0.0
        for k in 1...steps {
            let phi = k == steps ? end * (1 - 1e-9) : Double(k) * h
            let xv = x(phi)
            // Midpoint rule in φ: ρ at the middle times the change of x over the step.
            let mid = 0.5 * (phi + previousPhi)
            mass += density(mid) * abs(previousX - xv)
            phis.append(phi); above.append(mass)
            previousX = xv; previousPhi = phi
        }
        let total = mass
        return edges.map { t in
            let target = t * t
            if target >= maxSquared { return 1 }
            if target <= 0 { return 0 }
            // x decreases with φ: find the first step whose x is ≤ target.
            var lo = 0, hi = phis.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if x(phis[mid]) <= target { hi = mid } else { lo = mid + 1 }
            }
            return 1 - above[lo] / total
        }
    }

    /// Total mass of the density as the φ integral gives it (1 up to discretisation; a check).
    public func totalMass(steps: Int = 20_000) -> Double {
        let end = Double.pi / Double(products + 1), h = end / Double(steps)
        var mass = 0.0
        for k in 0..<steps {
            let a = Double(k) * h, b = k == steps - 1 ? end * (1 - 1e-12) : Double(k + 1) * h
            let xa = k == 0 ? maxSquared : x(a)
            mass += density(0.5 * (a + b)) * abs(xa - x(b))
        }
        return mass
    }
}
