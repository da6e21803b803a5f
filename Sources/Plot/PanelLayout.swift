// Everything around one panel's plot area, placed in pixels: ticks chosen so their labels fit,
// tick labels, axis labels, the scale offset, the title, the colour bar and the legend.

public struct PlacedTick: Equatable, Sendable {
    public var value: Double
    /// Pixel position along the axis.
    public var position: Double
    public var isMajor: Bool
}

public struct AxisLayout: Equatable, Sendable {
    public var ticks: TickSet
    public var placed: [PlacedTick]
    public var labels: [PlacedText]
}

public struct ColorBarLayout: Equatable, Sendable {
    public var bar: Rect
    public var colorBar: ColorBar
    public var axis: AxisLayout
}

public struct PanelLayout: Equatable, Sendable {
    public var index: PanelIndex
    public var plot: Rect
    public var transform: DataTransform
    public var xAxis: AxisLayout
    public var yAxis: AxisLayout
    public var colorBar: ColorBarLayout?
    public var legend: LegendLayout?
    /// True when the legend did not fit inside the plot area and sits to its right.
    public var legendOutside: Bool
    /// False when an inside legend is larger than the plot area allows.
    public var legendFits: Bool
    /// Every text around the panel: tick labels, offsets, axis labels, title, colour-bar text.
    public var texts: [PlacedText]

    /// The box holding the plot area and everything drawn around it. Axis labels count only across
    /// their axis: one longer than its axis must not grow the margins along it, which would shrink the
    /// axis further and never settle.
    public var extent: Rect {
        var r = plot
        let boxes = texts.map { t -> Rect in
            switch t.role {
            case "y label", "colorbar label":
                return Rect(minX: t.box.minX, minY: max(t.box.minY, plot.minY), maxX: t.box.maxX, maxY: min(t.box.maxY, plot.maxY))
            case "x label":
                return Rect(minX: max(t.box.minX, plot.minX), minY: t.box.minY, maxX: min(t.box.maxX, plot.maxX), maxY: t.box.maxY)
            default: return t.box
            }
        }
        for b in boxes + [colorBar?.bar, legendOutside ? legend?.box : nil].compactMap({ $0 }) {
            r = Rect(minX: min(r.minX, b.minX), minY: min(r.minY, b.minY), maxX: max(r.maxX, b.maxX), maxY: max(r.maxY, b.maxY))
        }
        return r
    }
}

struct PanelDecorator {
    let style: Style
    let scale: Double          // pixels per point
    let measurer: TextMeasuring

    var tickPx: Double { style.tickFontSize * scale }
    var pad: Double { 3.5 * scale }
    var majorLen: Double { style.majorTickLength * scale }
    var minorLen: Double { style.minorTickLength * scale }

    /// `legendBeside`: put the legend right of the plot instead of inside it (it did not fit inside).
    func decorate(_ panel: Panel, index: PanelIndex, plot: Rect, sharedLegend: Bool, legendBeside: Bool = false) -> PanelLayout {
        let xr = panel.xRange, yr = panel.yRange
        let t = DataTransform(plot: plot, x: xr, y: yr, xLog: panel.x.scale == .log, yLog: panel.y.scale == .log,
                              yInverted: panel.y.inverted)
        var texts: [PlacedText] = []

        // Y axis: labels right-aligned left of the ticks.
        let labelX = plot.minX - majorLen - pad
        let yAxis = fitTicks(axis: panel.y, range: yr, length: plot.height, horizontal: false,
                             position: t.py) { text, p in
            measurer.place(text, size: tickPx, at: Point(labelX, p), h: .right, v: .center, role: "y tick")
        }
        texts += yAxis.labels
        // Above the frame and above the top tick label, which may stick out past the frame.
        var aboveTop = min(plot.minY, yAxis.labels.map(\.box.minY).min() ?? plot.minY) - pad * 0.5
        if let off = yAxis.ticks.offset {
            let o = measurer.place(off, size: tickPx, at: Point(plot.minX, aboveTop), h: .left, v: .bottom, role: "y offset")
            texts.append(o); aboveTop = o.box.minY - pad
        }
        if let label = panel.y.label {
            let left = (yAxis.labels.map(\.box.minX).min() ?? labelX) - pad
            texts.append(measurer.place(label, size: style.labelFontSize * scale, at: Point(left, plot.midY),
                                        h: .right, v: .center, rotation: .up, role: "y label"))
        }

        // X axis: labels centred under the ticks, then the offset (right) and the axis label (centre).
        let labelY = plot.maxY + majorLen + pad
        let xAxis = fitTicks(axis: panel.x, range: xr, length: plot.width, horizontal: true, position: t.px) { text, p in
            measurer.place(text, size: tickPx, at: Point(p, labelY), h: .center, v: .top, role: "x tick")
        }
        texts += xAxis.labels
        var below = (xAxis.labels.map(\.box.maxY).max() ?? labelY) + pad * 0.5
        var xOffset: PlacedText?
        if let off = xAxis.ticks.offset {
            let o = measurer.place(off, size: tickPx, at: Point(plot.maxX, below), h: .right, v: .top, role: "x offset")
            texts.append(o); xOffset = o
        }
        if let label = panel.x.label {
            var l = measurer.place(label, size: style.labelFontSize * scale, at: Point(plot.midX, below), h: .center, v: .top,
                                   role: "x label")
            if let o = xOffset, o.box.intersects(l.box) {
                below = o.box.maxY + pad * 0.5
                l = measurer.place(label, size: style.labelFontSize * scale, at: Point(plot.midX, below), h: .center, v: .top,
                                   role: "x label")
            }
            texts.append(l)
        }

        // Colour bar to the right, with its own ticks, offset and label.
        var cbLayout: ColorBarLayout?
        if let cb = panel.colorBar {
            let width = min(max(plot.width * 0.05, 7 * scale), 14 * scale)
            let bar = Rect(minX: plot.maxX + 8 * scale, minY: plot.minY, width: width, height: plot.height)
            let axis = Axis(scale: .linear, limits: .fixed(cb.range.lowerBound, cb.range.upperBound))
            let cbT = DataTransform(plot: bar, x: 0...1, y: cb.range, xLog: false, yLog: false, yInverted: false)
            let cbLabelX = bar.maxX + majorLen + pad
            let cbAxis = fitTicks(axis: axis, range: cb.range, length: bar.height, horizontal: false, position: cbT.py) { text, p in
                measurer.place(text, size: tickPx, at: Point(cbLabelX, p), h: .left, v: .center, role: "colorbar tick")
            }
            texts += cbAxis.labels
            if let off = cbAxis.ticks.offset {
                let top = min(bar.minY, cbAxis.labels.map(\.box.minY).min() ?? bar.minY) - pad * 0.5
                texts.append(measurer.place(off, size: tickPx, at: Point(bar.minX, top), h: .left, v: .bottom,
                                            role: "colorbar offset"))
            }
            if let label = cb.label {
                let x = (cbAxis.labels.map(\.box.maxX).max() ?? cbLabelX) + pad
                texts.append(measurer.place(label, size: style.labelFontSize * scale, at: Point(x, bar.midY), h: .left,
                                            v: .center, rotation: .down, role: "colorbar label"))
            }
            cbLayout = ColorBarLayout(bar: bar, colorBar: cb, axis: cbAxis)
        }

        if let title = panel.title {
            let top = min(aboveTop, texts.filter { $0.role == "colorbar offset" }.map { $0.box.minY - pad }.min() ?? aboveTop)
            texts.append(measurer.place(title, size: style.titleFontSize * scale, at: Point(plot.midX, top - pad * 0.5),
                                        h: .center, v: .bottom, role: "title"))
        }

        var legend: LegendLayout?
        var legendFits = true
        let entries = panel.legendEntries
        if !sharedLegend, panel.legend != .none, !entries.isEmpty {
            let base = style.legendFontSize * scale
            if legendBeside {
                let right = max(plot.maxX, texts.map(\.box.maxX).max() ?? plot.maxX) + pad
                legend = LegendPlacer.layout(entries, fontPx: base, origin: Point(right, plot.minY), perRow: 1, measurer: measurer)
            } else {
                // Inside the plot, shrinking the font a little if need be; the caller moves it beside
                // the plot when even that does not fit.
                for fontPx in [base, base * 0.85, base * 0.7] {
                    let raw = LegendPlacer.layout(entries, fontPx: fontPx, origin: Point(0, 0), perRow: 1, measurer: measurer)
                    legendFits = raw.box.width + fontPx <= plot.width && raw.box.height + fontPx <= plot.height
                    legend = LegendPlacer.place(raw, in: plot, location: panel.legend, fontPx: fontPx, marks: panel.marks, transform: t)
                    if legendFits { break }
                }
            }
        }
        return PanelLayout(index: index, plot: plot, transform: t, xAxis: xAxis, yAxis: yAxis, colorBar: cbLayout,
                           legend: legend, legendOutside: legendBeside && legend != nil, legendFits: legendFits, texts: texts)
    }

    /// Picks the most ticks whose labels do not collide, then thins fixed ticks' labels if they still do.
    func fitTicks(axis: Axis, range: ClosedRange<Double>, length: Double, horizontal: Bool,
                  position: (Double) -> Double, place: (RichText, Double) -> PlacedText) -> AxisLayout {
        // Room per label as matplotlib estimates it: about 3 em across, 2 em up a log axis, a bit more on
        // linear y axes so counts do not crowd; the overlap check below is the guarantee.
        let spacing = horizontal ? tickPx * 3.2 : tickPx * (axis.scale == .log ? 2.0 : 2.6)
        let start = min(9, max(2, Int(length / spacing)))
        var best: AxisLayout?
        for n in stride(from: start, through: 2, by: -1) {
            let ticks = axis.ticks(range: range, maxTicks: n)
            let layout = build(ticks, position: position, place: place)
            // Fewer ticks can mean a single label (a 5-step on a range of 7): then thin the previous set.
            if layout.labels.count < 2, let previous = best, previous.labels.count >= 2 { break }
            best = layout
            if !crowded(layout.labels, horizontal: horizontal) { return layout }
            if axis.tickValues != nil { break }
        }
        guard var layout = best else { return AxisLayout(ticks: TickSet(ticks: [], offset: nil), placed: [], labels: []) }
        // Still crowded (hand-picked ticks on a short axis): keep every k-th label.
        let all = layout.labels
        var k = 2
        while crowded(layout.labels, horizontal: horizontal) && k <= all.count {
            layout.labels = all.enumerated().filter { $0.offset % k == 0 }.map(\.element)
            k += 1
        }
        return layout
    }

    func build(_ ticks: TickSet, position: (Double) -> Double, place: (RichText, Double) -> PlacedText) -> AxisLayout {
        var placed: [PlacedTick] = [], labels: [PlacedText] = []
        for tick in ticks.ticks {
            let p = position(tick.value)
            guard p.isFinite else { continue }
            placed.append(PlacedTick(value: tick.value, position: p, isMajor: tick.isMajor))
            if let l = tick.label { labels.append(place(l, p)) }
        }
        return AxisLayout(ticks: ticks, placed: placed, labels: labels)
    }

    func crowded(_ labels: [PlacedText], horizontal: Bool) -> Bool {
        let gap = horizontal ? tickPx * 0.6 : tickPx * 0.15
        let boxes = labels.map(\.box).sorted { horizontal ? $0.minX < $1.minX : $0.minY < $1.minY }
        for (a, b) in zip(boxes, boxes.dropFirst()) {
            if horizontal ? (b.minX - a.maxX < gap) : (b.minY - a.maxY < gap) { return true }
        }
        return false
    }
}
