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
        var beside = Set<PanelIndex>(), besideDecided = false
        // Size plot areas from the decorations they need until the insets stop changing. Ticks depend
        // on axis length, so after two passes insets only grow, which guarantees this settles. Once
        // settled, a legend that does not fit inside its plot moves beside it and sizing resumes.
        for pass in 0..<12 {
            let pw = max(10, (grid.width - left.reduce(0, +) - right.reduce(0, +) - gap * Double(C - 1)) / Double(C))
            let ph = max(10, (grid.height - top.reduce(0, +) - bottom.reduce(0, +) - gap * Double(R - 1)) / Double(R))
            layouts = []
            var y = grid.minY
            for r in 0..<R {
                var x = grid.minX
                for c in 0..<C {
                    let plot = Rect(minX: x + left[c], minY: y + top[r], width: pw, height: ph)
                    layouts.append(deco.decorate(fig[r, c], index: PanelIndex(r, c), plot: plot, sharedLegend: fig.sharedLegend,
                                                 legendBeside: beside.contains(PanelIndex(r, c))))
                    x += left[c] + pw + right[c] + gap
                }
                y += top[r] + ph + bottom[r] + gap
            }
            let ins = layouts.map(Insets.init)
            var newLeft = (0..<C).map { c in Insets.maxOf((0..<R).map { ins[$0 * C + c].left }) }
            var newRight = (0..<C).map { c in Insets.maxOf((0..<R).map { ins[$0 * C + c].right }) }
            var newTop = (0..<R).map { r in Insets.maxOf((0..<C).map { ins[r * C + $0].top }) }
            var newBottom = (0..<R).map { r in Insets.maxOf((0..<C).map { ins[r * C + $0].bottom }) }
            if pass >= 2 {
                newLeft = Insets.grow(newLeft, left); newRight = Insets.grow(newRight, right)
                newTop = Insets.grow(newTop, top); newBottom = Insets.grow(newBottom, bottom)
            }
            let newAll: [Double] = newLeft + newRight + newTop + newBottom, oldAll: [Double] = left + right + top + bottom
            let settled = zip(newAll, oldAll).allSatisfy { abs($0 - $1) < 0.25 }
            left = newLeft; right = newRight; top = newTop; bottom = newBottom
            if settled {
                if !besideDecided {
                    besideDecided = true
                    beside = Set(layouts.filter { !$0.legendFits }.map(\.index))
                    if !beside.isEmpty { continue }
                }
                break
            }
        }

        // Y-axis labels of one column share a vertical line, whatever their tick labels' widths
        // (matplotlib's align_ylabels); the column's left inset already holds the widest.
        for c in 0..<C {
            let indices = (0..<R).map { $0 * C + c }
            let rights = indices.compactMap { i in layouts[i].texts.first { $0.role == "y label" }?.box.maxX }
            guard let target = rights.min() else { continue }
            for i in indices {
                for (k, t) in layouts[i].texts.enumerated() where t.role == "y label" {
                    let dx = target - t.box.maxX
                    layouts[i].texts[k].box.minX += dx
                    layouts[i].texts[k].origin.x += dx
                }
            }
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

/// Space a panel needs around its plot area on each side.
struct Insets {
    let left, right, top, bottom: Double

    init(_ p: PanelLayout) {
        let e = p.extent
        left = p.plot.minX - e.minX; right = e.maxX - p.plot.maxX
        top = p.plot.minY - e.minY; bottom = e.maxY - p.plot.maxY
    }

    static func maxOf(_ v: [Double]) -> Double { v.max() ?? 0 }
    static func grow(_ new: [Double], _ old: [Double]) -> [Double] { zip(new, old).map { Swift.max($0, $1) } }
}
