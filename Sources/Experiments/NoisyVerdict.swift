import Foundation
import Pipeline

/// An accuracy measured once per seed, each on `images` test images: its mean and the standard error of
/// that mean, which combines the spread between seeds with each run's binomial error (issue 21's rule).
public struct SeededAccuracy: Codable, Equatable, Sendable {
    /// Accuracies as fractions, one per seed.
    public var values: [Double]
    /// Images each accuracy was measured on.
    public var images: Int

    public init(values: [Double], images: Int) {
        self.values = values
        self.images = images
    }

    public var mean: Double { SeedSample(values).mean }

    /// The sample standard deviation between seeds (0 with one seed).
    public var seedSpread: Double { SeedSample(values).spread }

    /// √(s²/k + Σ pᵢ(1 − pᵢ)/n / k²): the seeds' spread and each run's binomial error, for the mean of k runs.
    public var standardError: Double {
        let k = Double(values.count)
        guard k > 0, images > 0 else { return .nan }
        let binomial = values.reduce(0) { $0 + $1 * (1 - $1) / Double(images) } / (k * k)
        return (seedSpread * seedSpread / k + binomial).squareRoot()
    }

    /// "46.2 % ± 0.5 (seeds 45.5–47.0)" in percent.
    public var text: String {
        let seeds = values.count > 1
            ? String(format: ", seeds %.1f–%.1f", 100 * (values.min() ?? .nan), 100 * (values.max() ?? .nan)) : ""
        return String(format: "%.1f %% ± %.1f (SE%@)", 100 * mean, 100 * standardError, seeds)
    }
}

/// Verdicts decided beyond the noise: a margin within two combined standard errors decides nothing.
public enum NoisyVerdict {
    /// "a > b": holds when a − b > 2·SE, fails when a − b < −2·SE, else inconclusive; SE = √(SE_a² + SE_b²).
    public static func greater(_ a: SeededAccuracy, than b: SeededAccuracy) -> Claim.Verdict {
        let margin = a.mean - b.mean, se = (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot()
        guard margin.isFinite, se.isFinite else { return .fails }
        if margin > 2 * se { return .holds }
        if margin < -2 * se { return .fails }
        return .inconclusive
    }

    /// "a ≈ b within ±tolerance": holds when the 95 % interval of a − b lies within ±tolerance, fails when it
    /// lies wholly outside, else inconclusive.
    public static func equivalent(_ a: SeededAccuracy, _ b: SeededAccuracy, tolerance: Double) -> Claim.Verdict {
        let (low, high) = interval(a, b)
        guard low.isFinite, high.isFinite else { return .fails }
        if low >= -tolerance && high <= tolerance { return .holds }
        if low > tolerance || high < -tolerance { return .fails }
        return .inconclusive
    }

    /// The 95 % interval of mean(a) − mean(b) (normal approximation, ±1.96 SE).
    public static func interval(_ a: SeededAccuracy, _ b: SeededAccuracy) -> (low: Double, high: Double) {
        let margin = a.mean - b.mean, se = (a.standardError * a.standardError + b.standardError * b.standardError).squareRoot()
        return (margin - 1.96 * se, margin + 1.96 * se)
    }
}

extension NoisyVerdict {
    /// A mean ± `error` against [low, high]: holds when the interval lies inside, fails when it lies wholly
    /// outside, else inconclusive; a measurement that is not finite fails.
    public static func within(mean: Double, error: Double, _ low: Double, _ high: Double) -> Claim.Verdict {
        guard mean.isFinite, error.isFinite else { return .fails }
        if mean - error >= low && mean + error <= high { return .holds }
        if mean + error < low || mean - error > high { return .fails }
        return .inconclusive
    }

    /// "a ≤ bound": holds when mean + 2·SE ≤ bound, fails when mean − 2·SE > bound, else inconclusive.
    public static func atMost(_ a: SeededAccuracy, _ bound: Double) -> Claim.Verdict {
        within(mean: a.mean, error: 2 * a.standardError, -.infinity, bound)
    }

    /// "a ≥ bound": holds when mean − 2·SE ≥ bound, fails when mean + 2·SE < bound, else inconclusive.
    public static func atLeast(_ a: SeededAccuracy, _ bound: Double) -> Claim.Verdict {
        within(mean: a.mean, error: 2 * a.standardError, bound, .infinity)
    }

    /// A claim made of parts ("at every layer", "below and above"): holds when every part holds, fails
    /// when any fails, else inconclusive.
    public static func every(_ verdicts: [Claim.Verdict]) -> Claim.Verdict {
        if verdicts.isEmpty || verdicts.contains(.fails) { return .fails }
        return verdicts.allSatisfy { $0 == .holds } ? .holds : .inconclusive
    }
}
