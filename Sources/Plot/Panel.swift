// One panel (matplotlib's Axes): two axes, marks, a title, an optional legend and colour bar.

import Statistics

public enum LegendLocation: Equatable, Sendable {
    case none
    /// The corner that covers the fewest data points.
    case best
    case upperRight, upperLeft, lowerLeft, lowerRight
}

public struct ColorBar: Equatable, Sendable {
    public var label: RichText?
    public var colormap: Colormap
    public var range: ClosedRange<Double>
}

public struct Panel: Equatable, Sendable {
    public var title: RichText?
    public var x: Axis
    public var y: Axis
    public var marks: [Mark] = []
    public var legend: LegendLocation = .best
    public var colorBar: ColorBar?
    /// Light grid lines at the major ticks.
    public var grid: Bool = false
    /// Next colour of the default cycle for a mark added without one.
    public private(set) var colorIndex = 0

    public init(title: RichText? = nil, x: Axis = Axis(), y: Axis = Axis()) {
        self.title = title; self.x = x; self.y = y
    }

    public var legendEntries: [(label: String, mark: Mark)] {
        marks.compactMap { m in m.label.map { ($0, m) } }
    }

    mutating func nextColor(_ explicit: Color?) -> Color {
        if let c = explicit { return c }
        defer { colorIndex += 1 }
        return Color.cycle(colorIndex)
    }

    // MARK: builders

    public mutating func plot(_ x: [Double], _ y: [Double], label: String? = nil, color: Color? = nil,
                              width: Double = 1.5, dash: Dash = .solid, marker: MarkerShape = .none) {
        marks.append(.line(Line(x: x, y: y, color: nextColor(color), width: width, dash: dash, marker: marker,
                                label: label)))
    }

    /// Markers without a joining line (reference points, such as a paper's read-offs).
    public mutating func points(_ x: [Double], _ y: [Double], label: String? = nil, color: Color? = nil,
                                marker: MarkerShape = .cross, size: Double = 5) {
        var line = Line(x: x, y: y, color: nextColor(color), width: 0, marker: marker, label: label)
        line.markerSize = size
        marks.append(.line(line))
    }

    /// A shaded region; unlabelled by default because it usually belongs to a line.
    public mutating func band(_ x: [Double], lower: [Double], upper: [Double], color: Color? = nil,
                              alpha: Double = 0.3, label: String? = nil) {
        marks.append(.band(Band(x: x, lower: lower, upper: upper, color: nextColor(color).withAlpha(alpha),
                                label: label)))
    }

    /// Mean line over a mean ± spread band in the same colour (Fig. 1). The band is drawn first.
    public mutating func plotWithBand(_ x: [Double], mean: [Double], spread: [Double], label: String? = nil,
                                      color: Color? = nil, width: Double = 1.5, alpha: Double = 0.3) {
        let c = nextColor(color)
        let lower = zip(mean, spread).map { $0 - $1 }, upper = zip(mean, spread).map { $0 + $1 }
        marks.append(.band(Band(x: x, lower: lower, upper: upper, color: c.withAlpha(alpha), label: nil)))
        marks.append(.line(Line(x: x, y: mean, color: c, width: width, label: label)))
    }

    /// Symmetric vertical error bars with caps, optionally joined by a line (Fig. 5). `dodge` shifts
    /// the series sideways (data units) so bars of several series at the same x stay apart.
    public mutating func errorBars(_ x: [Double], _ y: [Double], error: [Double], label: String? = nil,
                                   color: Color? = nil, capSize: Double = 3, connect: Bool = true, dodge: Double = 0) {
        marks.append(.errorBars(ErrorBars(x: x.map { $0 + dodge }, y: y, below: error, above: error, color: nextColor(color),
                                          capSize: capSize, connect: connect, label: label)))
    }

    public mutating func histogram(edges: [Double], counts: [Double], label: String? = nil, color: Color? = nil,
                                   alpha: Double = 1) {
        marks.append(.histogram(Histogram(edges: edges, counts: counts, color: nextColor(color).withAlpha(alpha),
                                          label: label)))
    }

    public mutating func histogram(values: [Double], bins: Int, range: ClosedRange<Double>? = nil,
                                   label: String? = nil, color: Color? = nil, alpha: Double = 1) {
        let h = EqualWidthBins(values, bins: bins, range: range)
        histogram(edges: h.edges, counts: h.counts, label: label, color: color, alpha: alpha)
    }

    /// A rows × columns matrix as an image with a colour bar. `range` defaults to the data's range, or to
    /// ±max|v| when `symmetric` (so zero sits in the middle of a diverging map).
    public mutating func heatmap(rows: Int, columns: Int, values: [Double], colormap: Colormap = .viridis,
                                 range: ClosedRange<Double>? = nil, symmetric: Bool = false,
                                 colorBarLabel: RichText? = nil) {
        let finite = values.filter(\.isFinite)
        var r = range ?? ((finite.min() ?? 0)...(finite.max() ?? 1))
        if range == nil && symmetric {
            let m = max(abs(r.lowerBound), abs(r.upperBound))
            r = -m...m
        }
        if r.upperBound <= r.lowerBound { r = (r.lowerBound - 0.5)...(r.lowerBound + 0.5) }
        marks.append(.heatmap(Heatmap(rows: rows, columns: columns, values: values, colormap: colormap, range: r)))
        colorBar = ColorBar(label: colorBarLabel, colormap: colormap, range: r)
        y.inverted = true
        legend = .none
    }

    public mutating func reference(_ orientation: ReferenceLine.Orientation, at value: Double, color: Color = .gray,
                                   dash: Dash = .dashed, label: String? = nil) {
        marks.append(.reference(ReferenceLine(orientation: orientation, value: value, color: color, dash: dash,
                                              label: label)))
    }

    // MARK: extent

    /// The data range along one axis, ignoring non-finite values and, on a log axis, non-positive ones.
    func dataRange(xAxis: Bool) -> ClosedRange<Double>? {
        let scale = xAxis ? x.scale : y.scale
        var lo = Double.infinity, hi = -Double.infinity
        for m in marks {
            if case .rect = m { continue }   // a zoom frame never widens the view
            for p in m.points {
                let v = xAxis ? p.0 : p.1
                guard v.isFinite, scale == .linear || v > 0 else { continue }
                lo = min(lo, v); hi = max(hi, v)
            }
        }
        return lo <= hi ? lo...hi : nil
    }

    /// Values auto limits must not pad past: a histogram's baseline, a heat map's edges.
    func stickyValues(xAxis: Bool) -> [Double] {
        var s: [Double] = []
        for m in marks {
            switch m {
            case .histogram: if !xAxis { s.append(0) }   // bars stand on the axis; x keeps its margins
            case .heatmap(let h):
                s += xAxis ? [-0.5, Double(h.columns) - 0.5] : [-0.5, Double(h.rows) - 0.5]
            default: break
            }
        }
        return s
    }

    public var xRange: ClosedRange<Double> { x.resolvedRange(data: dataRange(xAxis: true), sticky: stickyValues(xAxis: true)) }
    public var yRange: ClosedRange<Double> { y.resolvedRange(data: dataRange(xAxis: false), sticky: stickyValues(xAxis: false)) }
}
