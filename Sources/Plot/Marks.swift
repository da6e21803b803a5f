// The things drawn inside a panel, as values. Colours are concrete: the panel's builders assign the
// default cycle when a mark is added, so the model says exactly what will be drawn.

public enum Dash: Equatable, Sendable {
    case solid, dashed, dotted, dashDot
    /// On/off lengths in units of the line width (matplotlib's scaled dash patterns).
    var pattern: [Double] {
        switch self {
        case .solid: return []
        case .dashed: return [3.7, 1.6]
        case .dotted: return [1, 1.65]
        case .dashDot: return [6.4, 1.6, 1, 1.6]
        }
    }
}

public enum MarkerShape: Equatable, Sendable { case none, circle, square, triangle, cross }

public struct Line: Equatable, Sendable {
    public var x: [Double]
    public var y: [Double]
    public var color: Color
    /// Width in points.
    public var width: Double = 1.5
    public var dash: Dash = .solid
    public var marker: MarkerShape = .none
    /// Marker diameter in points.
    public var markerSize: Double = 5
    public var label: String?
}

/// A filled region between two curves (mean ± std).
public struct Band: Equatable, Sendable {
    public var x: [Double]
    public var lower: [Double]
    public var upper: [Double]
    public var color: Color
    public var label: String?
}

public struct ErrorBars: Equatable, Sendable {
    public var x: [Double]
    public var y: [Double]
    /// Distance below and above each y.
    public var below: [Double]
    public var above: [Double]
    public var color: Color
    public var width: Double = 1.5
    /// Cap length in points (0: no caps).
    public var capSize: Double = 3
    /// Also draw the line through the points, as Fig. 5 does.
    public var connect: Bool = true
    public var label: String?
}

/// Counts over bin edges, drawn as one filled step outline (no seams between hundreds of bins).
public struct Histogram: Equatable, Sendable {
    public var edges: [Double]
    public var counts: [Double]
    public var color: Color
    public var label: String?
}

/// A matrix drawn as an image: cell (r, c) covers x ∈ [c − ½, c + ½], y ∈ [r − ½, r + ½].
public struct Heatmap: Equatable, Sendable {
    public var rows: Int
    public var columns: Int
    /// Row-major values, rows × columns.
    public var values: [Double]
    public var colormap: Colormap
    public var range: ClosedRange<Double>

    public func value(row: Int, column: Int) -> Double { values[row * columns + column] }
}

/// A rectangle outline in data coordinates (the zoom frame).
public struct RectMark: Equatable, Sendable {
    public var x: ClosedRange<Double>
    public var y: ClosedRange<Double>
    public var color: Color = .black
    public var width: Double = 1
}

/// A horizontal or vertical reference line across the whole panel (a threshold, a schedule step).
public struct ReferenceLine: Equatable, Sendable {
    public enum Orientation: Equatable, Sendable { case horizontal, vertical }
    public var orientation: Orientation
    public var value: Double
    public var color: Color = .gray
    public var width: Double = 1
    public var dash: Dash = .dashed
    public var label: String?
}

public enum Mark: Equatable, Sendable {
    case line(Line)
    case band(Band)
    case errorBars(ErrorBars)
    case histogram(Histogram)
    case heatmap(Heatmap)
    case rect(RectMark)
    case reference(ReferenceLine)

    public var label: String? {
        switch self {
        case let .line(m): return m.label
        case let .band(m): return m.label
        case let .errorBars(m): return m.label
        case let .histogram(m): return m.label
        case let .reference(m): return m.label
        case .heatmap, .rect: return nil
        }
    }

    /// The points a legend should avoid covering and the data extent uses.
    var points: [(Double, Double)] {
        switch self {
        case let .line(m): return Array(zip(m.x, m.y))
        case let .band(m): return Array(zip(m.x, m.lower)) + Array(zip(m.x, m.upper))
        case let .errorBars(m):
            return zip(m.x, zip(m.y, zip(m.below, m.above))).flatMap { x, t in
                [(x, t.0 - t.1.0), (x, t.0 + t.1.1)]
            }
        case let .histogram(m):
            guard m.edges.count == m.counts.count + 1 else { return [] }
            // The baseline counts too: bars stand on zero.
            return [(m.edges[0], 0)] + m.counts.indices.flatMap { i in [(m.edges[i], m.counts[i]), (m.edges[i + 1], m.counts[i])] }
        case let .heatmap(m):
            return [(-0.5, -0.5), (Double(m.columns) - 0.5, Double(m.rows) - 0.5)]
        case let .rect(m): return [(m.x.lowerBound, m.y.lowerBound), (m.x.upperBound, m.y.upperBound)]
        case .reference: return []
        }
    }
}
