import Foundation

/// The largest absolute and relative difference between two sequences of numbers, value by value.
/// Relative is |a − b| / max(|a|, |b|): 1 when one side is 0, 2 for opposite signs, never a division
/// by zero. A NaN on both sides counts as equal; a non-finite value on one side only is counted apart.
public struct ValueDifference: Sendable, Equatable {
    public private(set) var compared = 0
    public private(set) var differing = 0
    public private(set) var nonFinite = 0
    public private(set) var largestAbsolute = 0.0
    public private(set) var largestRelative = 0.0
    /// Where the largest absolute difference is (an index, or a JSON path).
    public private(set) var largestAt: String?

    public init() {}

    public mutating func add(_ a: Double, _ b: Double, at position: @autoclosure () -> String) {
        compared += 1
        if a == b || (a.isNaN && b.isNaN) { return }
        differing += 1
        let d = abs(a - b)
        guard d.isFinite else { nonFinite += 1; return }
        if d > largestAbsolute || largestAt == nil { largestAbsolute = d; largestAt = position() }
        largestRelative = max(largestRelative, d / max(abs(a), abs(b)))
    }

    public static func of(_ a: [Double], _ b: [Double]) -> ValueDifference {
        var result = ValueDifference()
        for i in 0..<min(a.count, b.count) { result.add(a[i], b[i], at: String(i)) }
        return result
    }

    /// "3 of 1000 values differ; largest absolute difference 1.2e-07 (at 17), relative 3.1e-08".
    public var text: String {
        guard differing > 0 else { return "all \(compared) values equal" }
        var line = "\(differing) of \(compared) values differ"
        if differing > nonFinite {
            line += String(format: "; largest absolute difference %.3g", largestAbsolute) + (largestAt.map { " (at \($0))" } ?? "")
                + String(format: ", largest relative %.3g", largestRelative)
        }
        if nonFinite > 0 { line += "; \(nonFinite) non-finite on one side only" }
        return line
    }
}
