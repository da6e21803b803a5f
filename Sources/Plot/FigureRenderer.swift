import CCairo

// Draws a laid-out figure onto a canvas: marks clipped to their plot area, then frames, ticks,
// text, colour bars, legends and zoom connectors on top.

struct FigureRenderer {
    let figure: Figure
    let layout: FigureLayout
    var s: Double { figure.dpi / 72 }

    func draw(on canvas: CairoCanvas) throws {
        canvas.fill(Rect(minX: 0, minY: 0, width: Double(layout.width), height: Double(layout.height)), figure.style.background)
        for pl in layout.panels {
            let panel = figure[pl.index]
            canvas.clip(pl.plot)
            for mark in panel.marks { try drawMark(mark, pl.transform, canvas) }
            if panel.grid { drawGrid(pl, canvas) }
            canvas.unclip()
            // Zoom frames may reach past the axes (as in the paper), so they are not clipped.
            for case let .rect(r) in panel.marks {
                let t = pl.transform
                canvas.stroke([Point(t.px(r.x.lowerBound), t.py(r.y.lowerBound)), Point(t.px(r.x.upperBound), t.py(r.y.lowerBound)),
                               Point(t.px(r.x.upperBound), t.py(r.y.upperBound)), Point(t.px(r.x.lowerBound), t.py(r.y.upperBound)),
                               Point(t.px(r.x.lowerBound), t.py(r.y.lowerBound))], r.color, width: r.width * s)
            }
            drawFrameAndTicks(pl, canvas)
            if let cb = pl.colorBar { try drawColorBar(cb, canvas) }
            for t in pl.texts { canvas.text(t) }
            if let l = pl.legend { drawLegend(l, canvas) }
        }
        for t in layout.texts { canvas.text(t) }
        if let l = layout.sharedLegend { drawLegend(l, canvas, framed: false) }
        for (a, b) in layout.connectors { canvas.stroke([a, b], .black, width: 0.8 * s) }
        try canvas.check("drawing the figure")
    }

    func drawMark(_ mark: Mark, _ t: DataTransform, _ canvas: CairoCanvas) throws {
        switch mark {
        case let .line(l):
            for run in segments(l.x, l.y, t) {
                if l.width > 0 { canvas.stroke(run, l.color, width: l.width * s, dash: l.dash.pattern.map { $0 * l.width * s }) }
                if l.marker != .none { for p in run { drawMarker(l.marker, p, size: l.markerSize * s, l.color, canvas) } }
            }
        case let .band(b):
            // Split at missing values so a NaN never joins two separate stretches of the band.
            var lower: [Point] = [], upper: [Point] = []
            func flush() { canvas.fillPolygon(lower + upper.reversed(), b.color); lower = []; upper = [] }
            for i in b.x.indices {
                if let lo = t.point(b.x[i], b.lower[i]), let hi = t.point(b.x[i], b.upper[i]) { lower.append(lo); upper.append(hi) } else { flush() }
            }
            flush()
        case let .errorBars(e):
            let w = e.width * s, cap = e.capSize * s
            for i in e.x.indices {
                guard let lo = t.point(e.x[i], e.y[i] - e.below[i]), let hi = t.point(e.x[i], e.y[i] + e.above[i]) else { continue }
                canvas.stroke([lo, hi], e.color, width: w)
                if cap > 0 {
                    canvas.stroke([Point(lo.x - cap, lo.y), Point(lo.x + cap, lo.y)], e.color, width: w)
                    canvas.stroke([Point(hi.x - cap, hi.y), Point(hi.x + cap, hi.y)], e.color, width: w)
                }
            }
            if e.connect { for run in segments(e.x, e.y, t) { canvas.stroke(run, e.color, width: w) } }
        case let .histogram(h):
            // One step outline per histogram: hundreds of adjacent rectangles would show seams.
            var pts: [Point] = []
            for i in h.counts.indices {
                guard let a = t.point(h.edges[i], h.counts[i]), let b = t.point(h.edges[i + 1], h.counts[i]) else { continue }
                pts += [a, b]
            }
            guard let first = pts.first, let last = pts.last else { return }
            let base = t.py(t.yLog ? t.y.lowerBound : 0)
            canvas.fillPolygon([Point(first.x, base)] + pts + [Point(last.x, base)], h.color)
        case let .heatmap(h):
            let lo = h.range.lowerBound, span = h.range.upperBound - h.range.lowerBound
            try canvas.image(rows: h.rows, columns: h.columns, origin: Point(t.px(-0.5), t.py(-0.5)),
                             far: Point(t.px(Double(h.columns) - 0.5), t.py(Double(h.rows) - 0.5))) { r, c in
                h.colormap.color(at: (h.value(row: r, column: c) - lo) / span)
            }
        case let .reference(r):
            let p = t.plot
            let pts = r.orientation == .horizontal ? [Point(p.minX, t.py(r.value)), Point(p.maxX, t.py(r.value))]
                                                   : [Point(t.px(r.value), p.minY), Point(t.px(r.value), p.maxY)]
            canvas.stroke(pts, r.color, width: r.width * s, dash: r.dash.pattern.map { $0 * r.width * s })
        case .rect:
            break
        }
    }

    /// Runs of drawable consecutive points; NaN or non-positive-on-log values break the line.
    func segments(_ xs: [Double], _ ys: [Double], _ t: DataTransform) -> [[Point]] {
        var out: [[Point]] = [], cur: [Point] = []
        for (x, y) in zip(xs, ys) {
            if let p = t.point(x, y) { cur.append(p) } else if !cur.isEmpty { out.append(cur); cur = [] }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    func drawMarker(_ shape: MarkerShape, _ p: Point, size: Double, _ c: Color, _ canvas: CairoCanvas) {
        let r = size / 2
        switch shape {
        case .none: break
        case .circle: canvas.circle(p, radius: r, c)
        case .square: canvas.fill(Rect(minX: p.x - r, minY: p.y - r, width: size, height: size), c)
        case .triangle: canvas.fillPolygon([Point(p.x, p.y - r), Point(p.x + r, p.y + r * 0.8), Point(p.x - r, p.y + r * 0.8)], c)
        case .cross:
            canvas.stroke([Point(p.x - r, p.y - r), Point(p.x + r, p.y + r)], c, width: 1.2 * s)
            canvas.stroke([Point(p.x - r, p.y + r), Point(p.x + r, p.y - r)], c, width: 1.2 * s)
        }
    }

    func drawGrid(_ pl: PanelLayout, _ canvas: CairoCanvas) {
        let c = Color(hex: 0xb0b0b0, alpha: 0.5), p = pl.plot
        for t in pl.xAxis.placed where t.isMajor { canvas.stroke([Point(t.position, p.minY), Point(t.position, p.maxY)], c, width: 0.6 * s) }
        for t in pl.yAxis.placed where t.isMajor { canvas.stroke([Point(p.minX, t.position), Point(p.maxX, t.position)], c, width: 0.6 * s) }
    }

    func drawFrameAndTicks(_ pl: PanelLayout, _ canvas: CairoCanvas) {
        let st = figure.style, p = pl.plot
        let w = st.frameWidth * s
        for t in pl.xAxis.placed {
            let len = (t.isMajor ? st.majorTickLength : st.minorTickLength) * s
            canvas.stroke([Point(t.position, p.maxY), Point(t.position, p.maxY + len)], .black, width: w)
        }
        for t in pl.yAxis.placed {
            let len = (t.isMajor ? st.majorTickLength : st.minorTickLength) * s
            canvas.stroke([Point(p.minX, t.position), Point(p.minX - len, t.position)], .black, width: w)
        }
        canvas.strokeRect(p, .black, width: w)
    }

    func drawColorBar(_ cb: ColorBarLayout, _ canvas: CairoCanvas) throws {
        let map = cb.colorBar.colormap, n = map.count, bar = cb.bar
        // One image row per table entry, highest value at the top.
        try canvas.image(rows: n, columns: 1, origin: Point(bar.minX, bar.maxY), far: Point(bar.maxX, bar.minY)) { r, _ in
            map.color(at: (Double(r) + 0.5) / Double(n))
        }
        let w = figure.style.frameWidth * s
        for t in cb.axis.placed {
            let len = (t.isMajor ? figure.style.majorTickLength : figure.style.minorTickLength) * s
            canvas.stroke([Point(bar.maxX, t.position), Point(bar.maxX + len, t.position)], .black, width: w)
        }
        canvas.strokeRect(bar, .black, width: w)
    }

    func drawLegend(_ l: LegendLayout, _ canvas: CairoCanvas, framed: Bool = true) {
        if framed {
            canvas.fill(l.box, Color.white.withAlpha(0.8))
            canvas.strokeRect(l.box, Color(hex: 0xcccccc), width: 0.8 * s)
        }
        for e in l.entries {
            let h = e.handle
            let mid = [Point(h.minX, h.midY), Point(h.maxX, h.midY)]
            switch e.mark {
            case let .line(m):
                if m.width > 0 { canvas.stroke(mid, m.color, width: m.width * s, dash: m.dash.pattern.map { $0 * m.width * s }) }
                if m.marker != .none { drawMarker(m.marker, Point(h.midX, h.midY), size: m.markerSize * s, m.color, canvas) }
            case let .errorBars(m):
                canvas.stroke(mid, m.color, width: m.width * s)
                canvas.stroke([Point(h.midX, h.minY), Point(h.midX, h.maxY)], m.color, width: m.width * s)
            case let .reference(m):
                canvas.stroke(mid, m.color, width: m.width * s, dash: m.dash.pattern.map { $0 * m.width * s })
            case let .band(m): canvas.fill(h, m.color)
            case let .histogram(m): canvas.fill(h, m.color)
            case .heatmap, .rect: break
            }
            canvas.text(e.text)
        }
    }
}
