/// A histogram's arithmetic: counts of values in equal-width bins. The analyses bin what they write, and
/// the renderer bins what it is given as raw values, with this one definition.
public struct EqualWidthBins: Equatable, Sendable {
    /// bins + 1 edges, from the range's lower to its upper bound.
    public let edges: [Double]
    public let counts: [Double]

    /// Counts of `values` in `bins` equal bins over `range` (default: the finite values' range). Like
    /// numpy, the last bin includes its right edge; values outside the range and NaNs are not counted.
    public init(_ values: [Double], bins: Int, range: ClosedRange<Double>? = nil) {
        let finite = values.filter(\.isFinite)
        let n = max(1, bins)
        var lo = range?.lowerBound ?? finite.min() ?? 0
        var hi = range?.upperBound ?? finite.max() ?? 1
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        let width = (hi - lo) / Double(n)
        var counts = [Double](repeating: 0, count: n)
        for v in finite where v >= lo && v <= hi {
            counts[min(n - 1, Int((v - lo) / width))] += 1
        }
        self.edges = (0...n).map { lo + Double($0) * width }
        self.counts = counts
    }
}
