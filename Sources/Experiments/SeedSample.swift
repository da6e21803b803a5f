import Foundation
import Pipeline

/// A number measured once per seed (a fresh initialisation and fresh mini-batches each): its mean and the
/// standard error of that mean (sample std / √seeds). An analysis at initialisation costs seconds per
/// seed, so its claims are decided beyond this spread rather than on one draw (issue 22).
public struct SeedSample: Codable, Equatable, Sendable {
    public var values: [Double]

    public init(_ values: [Double]) { self.values = values }

    public var mean: Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

    public var spread: Double {
        guard values.count > 1 else { return 0 }
        let m = mean
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
    }

    /// 0 with one seed: a single draw has no measured spread, and the verdict is then the point's.
    public var standardError: Double { values.isEmpty ? .nan : spread / Double(values.count).squareRoot() }

    /// "0.0072 ± 0.0008 (5 seeds 0.0056–0.0097)" with `format` for each number.
    public func text(_ format: String = "%.3g") -> String {
        let each = { (x: Double) in String(format: format, x) }
        guard values.count > 1 else { return each(mean) }
        return "\(each(mean)) ± \(each(standardError)) (SE; \(values.count) seeds \(each(values.min() ?? .nan))–\(each(values.max() ?? .nan)))"
    }

    /// The mean's 2-SE interval against [low, high]: holds inside, fails wholly outside, else inconclusive.
    public func within(_ low: Double, _ high: Double) -> Claim.Verdict {
        NoisyVerdict.within(mean: mean, error: 2 * standardError, low, high)
    }

    public func atLeast(_ bound: Double) -> Claim.Verdict { within(bound, .infinity) }
    public func atMost(_ bound: Double) -> Claim.Verdict { within(-.infinity, bound) }

    /// The same sample in log₁₀ (for ratios and scales, whose seeds spread multiplicatively).
    public var log10: SeedSample { SeedSample(values.map { Foundation.log10($0) }) }
}
