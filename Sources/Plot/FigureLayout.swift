// The grid: panel plot areas sized so that every panel's decorations fit, aligned across rows and
// columns, with column titles on top, row labels at the right margin and a shared legend below.

public struct FigureLayout: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var panels: [PanelLayout]
    /// Figure title, column titles, row labels.
    public var texts: [PlacedText]
    public var sharedLegend: LegendLayout?
    /// Zoom connector lines, from a corner of the frame in the source panel to a corner of the target.
    public var connectors: [(Point, Point)]

    /// Every text on the figure, for overlap checks.
    public var allTexts: [PlacedText] {
        texts + panels.flatMap(\.texts) + panels.compactMap(\.legend).flatMap { $0.entries.map(\.text) }
            + (sharedLegend?.entries.map(\.text) ?? [])
    }

    public static func == (a: FigureLayout, b: FigureLayout) -> Bool {
        a.width == b.width && a.height == b.height && a.panels == b.panels && a.texts == b.texts
            && a.sharedLegend == b.sharedLegend && a.connectors.elementsEqual(b.connectors) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public init(width: Int, height: Int, panels: [PanelLayout], texts: [PlacedText], sharedLegend: LegendLayout?,
                connectors: [(Point, Point)]) {
        self.width = width; self.height = height; self.panels = panels; self.texts = texts
        self.sharedLegend = sharedLegend; self.connectors = connectors
    }

    public static func compute(_ fig: Figure, measurer: TextMeasuring) -> FigureLayout {
        let s = fig.dpi / 72, st = fig.style
        let W = Double(fig.pixelWidth), H = Double(fig.pixelHeight)
        let margin = st.outerMargin * s, pad = 4 * s
        var texts: [PlacedText] = []
        var grid = Rect(minX: margin, minY: margin, maxX: W - margin, maxY: H - margin)

        if let title = fig.title {
            let t = measurer.place(title, size: st.figureTitleFontSize * s, at: Point(W / 2, grid.minY), h: .center, v: .top,
                                   role: "figure title")
            texts.append(t); grid = Rect(minX: grid.minX, minY: t.box.maxY + pad, maxX: grid.maxX, maxY: grid.maxY)
        }
        let colTitleSize = st.titleFontSize * s
        let hasColumnTitles = fig.columnTitles.contains { $0 != nil }
        let colTitleH = hasColumnTitles ? measurer.measure("Ag", size: colTitleSize).height + pad : 0
        grid.minY += colTitleH; grid.height -= colTitleH
        let rowLabelSize = st.titleFontSize * s
        let rowLabelW = fig.rowLabels.compactMap { $0 }.map { measurer.measure($0, size: rowLabelSize).height }.max().map { $0 + pad } ?? 0
        grid.width -= rowLabelW

        var shared: LegendLayout?
        let entries = fig.sharedLegendEntries
        if fig.sharedLegend && !entries.isEmpty {
            let fontPx = st.legendFontSize * s
            var perRow = entries.count
            var l = LegendPlacer.layout(entries, fontPx: fontPx, origin: Point(0, 0), perRow: perRow, measurer: measurer)
            while l.box.width > grid.width && perRow > 1 {
                perRow -= 1
                l = LegendPlacer.layout(entries, fontPx: fontPx, origin: Point(0, 0), perRow: perRow, measurer: measurer)
            }
            l = LegendPlacer.shifted(l, dx: W / 2 - l.box.width / 2, dy: grid.maxY - l.box.height)
            shared = l
            grid.height -= l.box.height + pad
        }

        let deco = PanelDecorator(style: st, scale: s, measurer: measurer)
        let R = fig.rows, C = fig.columns, gap = st.panelGap * s
        // Start from generous guesses, then size plot areas from the decorations actually needed.
        var left = [Double](repeating: 50 * s, count: C), right = [Double](repeating: 10 * s, count: C)
        var top = [Double](repeating: 20 * s, count: R), bottom = [Double](repeating: 35 * s, count: R)
        var layouts: [PanelLayout] = []
        for _ in 0..<4 {
            let pw = max(10, (grid.width - left.reduce(0, +) - right.reduce(0, +) - gap * Double(C - 1)) / Double(C))
            let ph = max(10, (grid.height - top.reduce(0, +) - bottom.reduce(0, +) - gap * Double(R - 1)) / Double(R))
            layouts = []
            var y = grid.minY
            for r in 0..<R {
                var x = grid.minX
                for c in 0..<C {
                    let plot = Rect(minX: x + left[c], minY: y + top[r], width: pw, height: ph)
                    layouts.append(deco.decorate(fig[r, c], index: PanelIndex(r, c), plot: plot, sharedLegend: fig.sharedLegend))
                    x += left[c] + pw + right[c] + gap
                }
                y += top[r] + ph + bottom[r] + gap
            }
            left = (0..<C).map { c in (0..<R).map { r in layouts[r * C + c].plot.minX - layouts[r * C + c].extent.minX }.max() ?? 0 }
            right = (0..<C).map { c in (0..<R).map { r in layouts[r * C + c].extent.maxX - layouts[r * C + c].plot.maxX }.max() ?? 0 }
            top = (0..<R).map { r in (0..<C).map { c in layouts[r * C + c].plot.minY - layouts[r * C + c].extent.minY }.max() ?? 0 }
            bottom = (0..<R).map { r in (0..<C).map { c in layouts[r * C + c].extent.maxY - layouts[r * C + c].plot.maxY }.max() ?? 0 }
        }

        for c in 0..<C {
            guard c < fig.columnTitles.count, let title = fig.columnTitles[c] else { continue }
            let p = layouts[c]
            let topOfPanel = min(p.extent.minY, grid.minY)
            texts.append(measurer.place(title, size: colTitleSize, at: Point(p.plot.midX, topOfPanel - pad / 2), h: .center,
                                        v: .bottom, role: "column title"))
        }
        for r in 0..<R {
            guard r < fig.rowLabels.count, let label = fig.rowLabels[r] else { continue }
            let p = layouts[r * C + C - 1]
            let x = (0..<C).map { layouts[r * C + $0].extent.maxX }.max() ?? p.plot.maxX
            texts.append(measurer.place(label, size: rowLabelSize, at: Point(max(x, grid.maxX) + pad / 2, p.plot.midY),
                                        h: .left, v: .center, rotation: .down, role: "row label"))
        }

        var connectors: [(Point, Point)] = []
        for z in fig.zooms {
            let src = layouts[z.source.row * C + z.source.column], dst = layouts[z.target.row * C + z.target.column]
            let t = src.transform
            let topRight = Point(t.px(z.x.upperBound), t.py(z.y.upperBound))
            let bottomRight = Point(t.px(z.x.upperBound), t.py(z.y.lowerBound))
            // Corners facing each other: frame's right corners to the target's left corners.
            connectors.append((topRight, Point(dst.plot.minX, dst.plot.minY)))
            connectors.append((bottomRight, Point(dst.plot.minX, dst.plot.maxY)))
        }
        return FigureLayout(width: fig.pixelWidth, height: fig.pixelHeight, panels: layouts, texts: texts,
                            sharedLegend: shared, connectors: connectors)
    }
}
