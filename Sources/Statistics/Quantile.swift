/// The q-quantile of a sample, linear between order statistics (numpy's default); nan when empty.
public func quantile(_ values: [Double], _ q: Double) -> Double {
    let xs = values.sorted()
    guard !xs.isEmpty else { return .nan }
    let h = q * Double(xs.count - 1), lo = Int(h.rounded(.down)), hi = min(lo + 1, xs.count - 1)
    return xs[lo] + (h - Double(lo)) * (xs[hi] - xs[lo])
}

/// Median and quartiles of a sample: the spread the appendix figures draw.
public struct Quartiles: Codable, Equatable, Sendable {
    public let lower: Double
    public let median: Double
    public let upper: Double

    public init(_ values: [Double]) {
        lower = quantile(values, 0.25)
        median = quantile(values, 0.5)
        upper = quantile(values, 0.75)
    }
}
