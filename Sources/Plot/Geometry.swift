// Pixel-space geometry shared by the layout and the backends.

public struct Point: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// An axis-aligned rectangle in pixels, y growing downwards as in images.
public struct Rect: Equatable, Sendable {
    public var minX: Double
    public var minY: Double
    public var width: Double
    public var height: Double

    public init(minX: Double, minY: Double, width: Double, height: Double) {
        self.minX = minX; self.minY = minY; self.width = width; self.height = height
    }

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.init(minX: minX, minY: minY, width: maxX - minX, height: maxY - minY)
    }

    public var maxX: Double { minX + width }
    public var maxY: Double { minY + height }
    public var midX: Double { minX + width / 2 }
    public var midY: Double { minY + height / 2 }

    /// True when the interiors overlap (touching edges do not count).
    public func intersects(_ o: Rect) -> Bool {
        minX < o.maxX && o.minX < maxX && minY < o.maxY && o.minY < maxY
    }

    public func contains(_ p: Point) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
    public func insetBy(_ d: Double) -> Rect { Rect(minX: minX + d, minY: minY + d, width: width - 2 * d, height: height - 2 * d) }
}

/// Maps data coordinates of one panel to pixels.
public struct DataTransform: Equatable, Sendable {
    public var plot: Rect
    public var x: ClosedRange<Double>
    public var y: ClosedRange<Double>
    public var xLog: Bool
    public var yLog: Bool
    public var yInverted: Bool

    func fraction(_ v: Double, _ r: ClosedRange<Double>, _ log: Bool) -> Double {
        if log {
            let a = log10(r.lowerBound), b = log10(r.upperBound)
            return v > 0 ? (log10(v) - a) / (b - a) : -.infinity
        }
        return (v - r.lowerBound) / (r.upperBound - r.lowerBound)
    }

    public func px(_ v: Double) -> Double { plot.minX + fraction(v, x, xLog) * plot.width }

    public func py(_ v: Double) -> Double {
        let f = fraction(v, y, yLog)
        return yInverted ? plot.minY + f * plot.height : plot.maxY - f * plot.height
    }

    /// The pixel of a data point, or nil if it cannot be drawn (NaN, or ≤ 0 on a log axis). Far-away
    /// points are clamped because Cairo's fixed-point coordinates overflow past ~8 million pixels;
    /// they lie outside the clip, so clamping only shifts invisible parts of a line.
    public func point(_ dx: Double, _ dy: Double) -> Point? {
        let a = px(dx), b = py(dy)
        guard a.isFinite, b.isFinite else { return nil }
        let limit = 1e5
        return Point(min(max(a, plot.minX - limit), plot.maxX + limit), min(max(b, plot.minY - limit), plot.maxY + limit))
    }
}

import Foundation
