// One axis of a panel: its scale, limits, label and (optionally) hand-picked ticks.

public enum Scale: Equatable, Sendable {
    case linear
    case log
}

public enum Limits: Equatable, Sendable {
    /// From the data, padded by a fraction of the span on each side (matplotlib's 5 % margins).
    case auto(padding: Double)
    /// Exactly these limits.
    case fixed(Double, Double)

    public static let auto = Limits.auto(padding: 0.05)
}

public struct Axis: Equatable, Sendable {
    public var label: RichText?
    public var scale: Scale
    public var limits: Limits
    /// Hand-picked tick positions (e.g. layers 6, 18, …, 110); labels are formatted like a linear axis.
    public var tickValues: [Double]?
    /// Categorical labels for the tick positions in `tickValues` (same count).
    public var tickLabels: [String]?
    /// Draw from top to bottom (row 0 of a heat map at the top, as images are shown).
    public var inverted: Bool

    public init(label: RichText? = nil, scale: Scale = .linear, limits: Limits = .auto,
                tickValues: [Double]? = nil, tickLabels: [String]? = nil, inverted: Bool = false) {
        self.label = label; self.scale = scale; self.limits = limits
        self.tickValues = tickValues; self.tickLabels = tickLabels; self.inverted = inverted
    }

    /// The drawn range for data spanning `dataRange`; `sticky` values (0 under a histogram, a heat map's
    /// edges) are not padded past, as matplotlib does for bars and images.
    public func resolvedRange(data: ClosedRange<Double>?, sticky: [Double] = []) -> ClosedRange<Double> {
        switch limits {
        case let .fixed(a, b):
            return min(a, b)...max(a, b)
        case let .auto(padding):
            guard var lo = data?.lowerBound, var hi = data?.upperBound else {
                return scale == .log ? 1...10 : 0...1
            }
            if scale == .log {
                lo = Swift.max(lo, Double.leastNormalMagnitude)
                hi = Swift.max(hi, lo)
                var a = log10(lo), b = log10(hi)
                if b - a < 1e-12 { a -= 0.5; b += 0.5 }
                let pad = (b - a) * padding
                return pow(10, a - pad)...pow(10, b + pad)
            }
            if hi - lo < 1e-300 {
                let d = Swift.max(abs(lo) * 0.05, 0.5)
                lo -= d; hi += d
                return lo...hi
            }
            let pad = (hi - lo) * padding
            var a = lo - pad, b = hi + pad
            for s in sticky {
                if s <= lo && s > a { a = s }
                if s >= hi && s < b { b = s }
            }
            return a...b
        }
    }

    /// Ticks for the drawn range, aiming at no more than `maxTicks` labels.
    public func ticks(range: ClosedRange<Double>, maxTicks: Int) -> TickSet {
        if let values = tickValues {
            let inside = values.filter { range.contains($0) }
            if let names = tickLabels, names.count == values.count {
                let ticks = zip(values, names).filter { range.contains($0.0) }
                    .map { Tick(value: $0.0, label: RichText($0.1)) }
                return TickSet(ticks: ticks, offset: nil)
            }
            return TickGenerator.fixed(inside)
        }
        switch scale {
        case .linear: return TickGenerator.linear(range.lowerBound, range.upperBound, maxTicks: maxTicks)
        case .log: return TickGenerator.log(range.lowerBound, range.upperBound, maxMajor: maxTicks)
        }
    }
}

import Foundation
