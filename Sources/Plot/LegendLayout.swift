// Legend boxes: sized from measured text, placed in the corner that covers the fewest data.

public struct LegendEntryLayout: Equatable, Sendable {
    public var mark: Mark
    /// Where the sample line or patch is drawn.
    public var handle: Rect
    public var text: PlacedText
}

public struct LegendLayout: Equatable, Sendable {
    public var box: Rect
    public var entries: [LegendEntryLayout]
}

struct LegendMetrics {
    let fontPx: Double
    var pad: Double { 0.4 * fontPx }
    var handleLength: Double { 2.0 * fontPx }
    var handleGap: Double { 0.8 * fontPx }
    var rowGap: Double { 0.5 * fontPx }
    var columnGap: Double { 2.0 * fontPx }
}

enum LegendPlacer {
    /// A legend of `entries` laid out in rows of at most `perRow` entries, its top-left at `origin`.
    static func layout(_ entries: [(label: String, mark: Mark)], fontPx: Double, origin: Point, perRow: Int,
                       measurer: TextMeasuring) -> LegendLayout {
        let m = LegendMetrics(fontPx: fontPx)
        let texts = entries.map { measurer.measure(RichText($0.label), size: fontPx) }
        let rowH = max(texts.map(\.height).max() ?? fontPx, fontPx)
        let columns = max(1, min(perRow, entries.count))
        // Each column as wide as its widest entry, so a multi-row shared legend lines up.
        var colW = [Double](repeating: 0, count: columns)
        for (i, t) in texts.enumerated() { colW[i % columns] = max(colW[i % columns], m.handleLength + m.handleGap + t.width) }
        var out: [LegendEntryLayout] = []
        for (i, e) in entries.enumerated() {
            let c = i % columns, r = i / columns
            let x = origin.x + m.pad + colW[..<c].reduce(0, +) + Double(c) * m.columnGap
            let y = origin.y + m.pad + Double(r) * (rowH + m.rowGap)
            let handle = Rect(minX: x, minY: y + rowH * 0.15, width: m.handleLength, height: rowH * 0.7)
            let text = measurer.place(RichText(e.label), size: fontPx, at: Point(x + m.handleLength + m.handleGap, y + rowH / 2),
                                      h: .left, v: .center, role: "legend")
            out.append(LegendEntryLayout(mark: e.mark, handle: handle, text: text))
        }
        let rows = (entries.count + columns - 1) / columns
        let width = 2 * m.pad + colW.reduce(0, +) + Double(columns - 1) * m.columnGap
        let height = 2 * m.pad + Double(rows) * rowH + Double(max(0, rows - 1)) * m.rowGap
        return LegendLayout(box: Rect(minX: origin.x, minY: origin.y, width: width, height: height), entries: out)
    }

    /// Moves a legend laid out at the origin to `location` inside `plot` (or the emptiest corner for .best).
    static func place(_ legend: LegendLayout, in plot: Rect, location: LegendLocation, fontPx: Double,
                      marks: [Mark], transform: DataTransform) -> LegendLayout {
        let inset = 0.5 * fontPx
        let w = legend.box.width, h = legend.box.height
        func corner(_ loc: LegendLocation) -> Point {
            switch loc {
            case .upperLeft: return Point(plot.minX + inset, plot.minY + inset)
            case .lowerLeft: return Point(plot.minX + inset, plot.maxY - inset - h)
            case .lowerRight: return Point(plot.maxX - inset - w, plot.maxY - inset - h)
            default: return Point(plot.maxX - inset - w, plot.minY + inset)
            }
        }
        var chosen = location
        if location == .best {
            // matplotlib's order of preference on ties.
            let candidates: [LegendLocation] = [.upperRight, .upperLeft, .lowerLeft, .lowerRight]
            let polylines = marks.flatMap { pixelPolylines($0, transform) }
            var bestScore = Int.max
            for c in candidates {
                let o = corner(c)
                let r = Rect(minX: o.x, minY: o.y, width: w, height: h)
                let score = polylines.reduce(0) { acc, line in
                    acc + zip(line, line.dropFirst()).filter { segmentHits(r, $0, $1) }.count
                }
                if score < bestScore { bestScore = score; chosen = c }
            }
        }
        let o = corner(chosen)
        return shifted(legend, dx: o.x - legend.box.minX, dy: o.y - legend.box.minY)
    }

    static func shifted(_ l: LegendLayout, dx: Double, dy: Double) -> LegendLayout {
        func mv(_ r: Rect) -> Rect { Rect(minX: r.minX + dx, minY: r.minY + dy, width: r.width, height: r.height) }
        return LegendLayout(box: mv(l.box), entries: l.entries.map { e in
            var t = e.text
            t.box = mv(t.box); t.origin = Point(t.origin.x + dx, t.origin.y + dy)
            return LegendEntryLayout(mark: e.mark, handle: mv(e.handle), text: t)
        })
    }

    /// The outlines a mark draws, in pixels, for scoring legend positions.
    static func pixelPolylines(_ mark: Mark, _ t: DataTransform) -> [[Point]] {
        func poly(_ xs: [Double], _ ys: [Double]) -> [Point] { zip(xs, ys).compactMap { t.point($0, $1) } }
        switch mark {
        case let .line(l): return [poly(l.x, l.y)]
        case let .band(b): return [poly(b.x, b.lower), poly(b.x, b.upper)]
        case let .errorBars(e):
            let bars = e.x.indices.compactMap { i -> [Point]? in
                guard i < e.y.count, i < e.below.count, i < e.above.count else { return nil }
                return poly([e.x[i], e.x[i]], [e.y[i] - e.below[i], e.y[i] + e.above[i]])
            }
            return bars + [poly(e.x, e.y)]
        case .histogram:
            return [mark.points.compactMap { t.point($0.0, $0.1) }]
        default: return []
        }
    }

    /// Whether segment a–b crosses or lies in r (Liang–Barsky clipping).
    static func segmentHits(_ r: Rect, _ a: Point, _ b: Point) -> Bool {
        var t0 = 0.0, t1 = 1.0
        let dx = b.x - a.x, dy = b.y - a.y
        for (p, q) in [(-dx, a.x - r.minX), (dx, r.maxX - a.x), (-dy, a.y - r.minY), (dy, r.maxY - a.y)] {
            if p == 0 { if q < 0 { return false } ; continue }
            let u = q / p
            if p < 0 { t0 = max(t0, u) } else { t1 = min(t1, u) }
            if t0 > t1 { return false }
        }
        return true
    }
}
