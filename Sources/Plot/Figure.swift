// The figure: a grid of panels with row labels, column titles, a shared legend and zoom links.
// Pure data; CairoCanvas draws it and PNGWriter encodes it.

public struct PanelIndex: Equatable, Hashable, Sendable {
    public var row: Int
    public var column: Int
    public init(_ row: Int, _ column: Int) { self.row = row; self.column = column }
}

/// A zoom: a frame around `x` × `y` in the source panel, joined by connector lines to the target
/// panel, whose limits become that frame (the paper's random-matrix figure).
public struct Zoom: Equatable, Sendable {
    public var source: PanelIndex
    public var target: PanelIndex
    public var x: ClosedRange<Double>
    public var y: ClosedRange<Double>
}

public struct Style: Equatable, Sendable {
    public var fontFamily = "DejaVu Sans"
    /// Font sizes in points.
    public var tickFontSize = 9.0
    public var labelFontSize = 10.0
    public var titleFontSize = 11.0
    public var legendFontSize = 9.0
    public var figureTitleFontSize = 12.0
    /// Tick lengths and the frame's line width in points.
    public var majorTickLength = 3.5
    public var minorTickLength = 2.0
    public var frameWidth = 0.8
    /// Space around the figure and between panels, in points.
    public var outerMargin = 6.0
    public var panelGap = 10.0
    public var background = Color.white
    public init() {}
}

public struct Figure: Equatable, Sendable {
    /// Size in inches; pixels are width × dpi.
    public var width: Double
    public var height: Double
    public var dpi: Double
    public let rows: Int
    public let columns: Int
    /// Row-major, rows × columns.
    public var panels: [Panel]
    public var title: RichText?
    /// Titles above the top row, one per column ("mini-batch 1").
    public var columnTitles: [RichText?] = []
    /// Labels at the right margin, one per row ("with BN"), read top to bottom.
    public var rowLabels: [RichText?] = []
    /// One legend for the whole figure, under the panels, instead of one per panel.
    public var sharedLegend = false
    public var zooms: [Zoom] = []
    public var style = Style()

    public init(width: Double, height: Double, dpi: Double = 150, rows: Int = 1, columns: Int = 1) {
        self.width = width; self.height = height; self.dpi = dpi
        self.rows = max(1, rows); self.columns = max(1, columns)
        panels = Array(repeating: Panel(), count: self.rows * self.columns)
    }

    public var pixelWidth: Int { Int((width * dpi).rounded()) }
    public var pixelHeight: Int { Int((height * dpi).rounded()) }

    public subscript(row: Int, column: Int) -> Panel {
        get { panels[row * columns + column] }
        set { panels[row * columns + column] = newValue }
    }

    public subscript(index: PanelIndex) -> Panel {
        get { self[index.row, index.column] }
        set { self[index.row, index.column] = newValue }
    }

    /// Edits every panel in place, row by row: the grid builder for figures like Fig. 3 and Fig. 4.
    public mutating func forEachPanel(_ body: (_ row: Int, _ column: Int, _ panel: inout Panel) throws -> Void) rethrows {
        for r in 0..<rows { for c in 0..<columns { try body(r, c, &panels[r * columns + c]) } }
    }

    /// Frames `x` × `y` in `source`, sets `target`'s limits to it, and records the connector lines.
    public mutating func zoom(from source: PanelIndex, x: ClosedRange<Double>, y: ClosedRange<Double>,
                              to target: PanelIndex) {
        self[source].marks.append(.rect(RectMark(x: x, y: y)))
        self[target].x.limits = .fixed(x.lowerBound, x.upperBound)
        self[target].y.limits = .fixed(y.lowerBound, y.upperBound)
        zooms.append(Zoom(source: source, target: target, x: x, y: y))
    }

    /// Legend entries of the whole figure, one per distinct label, in first-seen order.
    public var sharedLegendEntries: [(label: String, mark: Mark)] {
        var seen = Set<String>(), out: [(String, Mark)] = []
        for p in panels { for e in p.legendEntries where !seen.contains(e.label) { seen.insert(e.label); out.append(e) } }
        return out
    }
}
