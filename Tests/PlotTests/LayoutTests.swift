import Statistics
import XCTest
@testable import Plot

final class LayoutTests: XCTestCase {
    /// The paper's Fig. 3 layout: 2 × 3 log-log grid, column titles on top, row labels at the right.
    func grid() -> Figure {
        var fig = Figure(width: 9, height: 4.5, dpi: 100, rows: 2, columns: 3)
        fig.columnTitles = ["mini-batch 1", "mini-batch 4", "mini-batch 7"]
        fig.rowLabels = ["with BN", "w/o BN"]
        let s = (0...50).map { pow(10, -5 + Double($0) * 0.08) }
        for c in 0..<3 {
            var top = Panel(x: Axis(scale: .log), y: Axis(label: c == 0 ? "relative loss" : nil, scale: .log))
            top.plot(s, s.map { 1 - 0.2 * $0 / ($0 + 0.01) + 50 * $0 * $0 })
            var bottom = Panel(x: Axis(label: "step size", scale: .log), y: Axis(label: "relative loss", scale: .log, limits: .fixed(1e-2, 1e6)))
            bottom.plot(s, s.map { 1 + pow($0 / 1e-3, 5) })
            fig[0, c] = top; fig[1, c] = bottom
        }
        return fig
    }

    func testGridLabelsAndAlignment() throws {
        let fig = grid()
        let l = try fig.layout()
        assertNoOverlaps(l, "grid")
        let col = l.texts.filter { $0.role == "column title" }
        XCTAssertEqual(col.map(\.text.plain), ["mini-batch 1", "mini-batch 4", "mini-batch 7"])
        let rows = l.texts.filter { $0.role == "row label" }
        XCTAssertEqual(rows.map(\.text.plain), ["with BN", "w/o BN"])
        XCTAssertTrue(rows.allSatisfy { $0.rotation == .down })
        for (i, t) in col.enumerated() {
            XCTAssertEqual(t.box.midX, l.panels[i].plot.midX, accuracy: 0.5, "column title centred over its column")
            XCTAssertLessThanOrEqual(t.box.maxY, l.panels[i].extent.minY)
        }
        for (r, t) in rows.enumerated() {
            XCTAssertEqual(t.box.midY, l.panels[r * 3].plot.midY, accuracy: 0.5)
            XCTAssertGreaterThanOrEqual(t.box.minX, l.panels[r * 3 + 2].extent.maxX)
        }
        // Plot areas align across rows and columns and have equal sizes.
        for c in 0..<3 { XCTAssertEqual(l.panels[c].plot.minX, l.panels[3 + c].plot.minX, accuracy: 1e-9) }
        for r in 0..<2 { XCTAssertEqual(l.panels[3 * r].plot.minY, l.panels[3 * r + 2].plot.minY, accuracy: 1e-9) }
        XCTAssertEqual(l.panels[0].plot.width, l.panels[5].plot.width, accuracy: 1e-9)
        let yLabels = l.panels.filter { $0.index.column == 0 }.compactMap { $0.texts.first { $0.role == "y label" } }
        XCTAssertEqual(yLabels.count, 2)
        XCTAssertEqual(yLabels[0].box.minX, yLabels[1].box.minX, accuracy: 1e-9, "y labels of a column aligned")
        // The fixed no-BN limits give the paper's ticks.
        XCTAssertEqual(l.panels[3].yAxis.ticks.labels, ["10⁻²", "1", "10²", "10⁴", "10⁶"])
    }

    func testOverlongLabelIsAnErrorNotAnOverlap() {
        var fig = Figure(width: 3, height: 2.5, dpi: 100, rows: 2, columns: 1)
        fig[0, 0].y = Axis(label: "a very long y-axis label that cannot possibly fit beside this short axis")
        fig[1, 0].y = Axis(label: "another label")
        fig[0, 0].plot([0, 1], [0, 1]); fig[1, 0].plot([0, 1], [0, 1])
        XCTAssertThrowsError(try fig.layout()) { e in
            guard let p = e as? PlotError else { return XCTFail("\(e)") }
            switch p {
            case .labelsOverlap, .labelDoesNotFit: XCTAssertTrue("\(p)".contains("a very long y-axis label"))
            default: XCTFail("\(p)")
            }
        }
    }

    func testForEachPanelVisitsRowMajor() {
        var fig = Figure(width: 6, height: 4, rows: 2, columns: 3)
        var order: [String] = []
        fig.forEachPanel { r, c, p in order.append("\(r)\(c)"); p.title = RichText("\(r),\(c)") }
        XCTAssertEqual(order, ["00", "01", "02", "10", "11", "12"])
        XCTAssertEqual(fig[1, 2].title?.plain, "1,2")
    }

    func testLegendEntriesAndBestCorner() throws {
        var fig = Figure(width: 5, height: 3.5, dpi: 100)
        var p = Panel()
        let x = (0...50).map(Double.init)
        // Data run along the top and through the lower left: only the lower right is free.
        p.plotWithBand(x, mean: x.map { 100 - $0 * 0.1 }, spread: x.map { _ in 2 }, label: "falling")
        p.plot(x, x.map { 92 - $0 * 0.1 }, label: "also falling")
        p.plot([0, 10], [0, 0])
        fig[0, 0] = p
        let l = try fig.layout()
        guard let legend = l.panels[0].legend else { return XCTFail("no legend") }
        XCTAssertEqual(legend.entries.map(\.text.text.plain), ["falling", "also falling"], "unlabelled band has no entry")
        XCTAssertGreaterThan(legend.box.midY, l.panels[0].plot.midY, "legend in a lower corner, away from the data")
        XCTAssertGreaterThan(legend.box.midX, l.panels[0].plot.midX)
        XCTAssertTrue(legend.box.minX >= l.panels[0].plot.minX && legend.box.maxX <= l.panels[0].plot.maxX)
    }

    func testSharedLegendDedupesAcrossPanels() throws {
        var fig = Figure(width: 8, height: 3, dpi: 100, rows: 1, columns: 2)
        fig.sharedLegend = true
        for c in 0..<2 {
            fig[0, c].plot([0, 1], [0, 1], label: "with BN")
            fig[0, c].plot([0, 1], [1, 0], label: "w/o BN")
        }
        let l = try fig.layout()
        XCTAssertEqual(l.sharedLegend?.entries.map(\.text.text.plain), ["with BN", "w/o BN"])
        XCTAssertNil(l.panels[0].legend)
        let box = try XCTUnwrap(l.sharedLegend?.box)
        XCTAssertTrue(l.panels.allSatisfy { $0.extent.maxY <= box.minY })
        assertNoOverlaps(l, "shared legend")
    }

    func testTickLabelsThinOnNarrowAxesInsteadOfOverlapping() throws {
        var fig = Figure(width: 2.2, height: 2, dpi: 100)
        var p = Panel(x: Axis(label: "Layer", tickValues: [6, 18, 30, 42, 54, 66, 78, 90, 102, 110]))
        p.plot([6, 110], [0.000123, 0.000456])
        fig[0, 0] = p
        let l = try fig.layout()
        assertNoOverlaps(l, "narrow")
        XCTAssertLessThan(l.panels[0].xAxis.labels.count, 10)
        XCTAssertEqual(l.panels[0].yAxis.ticks.offset?.plain, "×10⁻⁴")
    }

    func testZoomSetsTargetLimitsAndConnectors() throws {
        var fig = Figure(width: 9, height: 3, dpi: 100, rows: 1, columns: 2)
        fig[0, 0].histogram(values: (0..<1000).map { Double($0 % 100) / 25 }, bins: 40, label: "one matrix", alpha: 0.5)
        fig[0, 1].histogram(values: (0..<1000).map { Double($0 % 100) / 25 }, bins: 40, alpha: 0.5)
        fig.zoom(from: PanelIndex(0, 0), x: 0...2, y: 0...30, to: PanelIndex(0, 1))
        XCTAssertEqual(fig[0, 1].xRange, 0...2)
        XCTAssertEqual(fig[0, 1].yRange, 0...30)
        XCTAssertEqual(fig[0, 0].yRange.lowerBound, 0, "histograms stand on y = 0")
        let l = try fig.layout()
        XCTAssertEqual(l.connectors.count, 2)
        let (a, b) = l.connectors[0]
        let t = l.panels[0].transform
        XCTAssertEqual(a.x, t.px(2), accuracy: 1e-9)
        XCTAssertEqual(a.y, t.py(30), accuracy: 1e-9)
        XCTAssertEqual(b.x, l.panels[1].plot.minX)
        XCTAssertEqual(b.y, l.panels[1].plot.minY)
    }

    func testHistogramBinning() {
        let h = EqualWidthBins([0, 0.5, 1, 1, 2, .nan, 5], bins: 2, range: 0...2)
        XCTAssertEqual(h.edges, [0, 1, 2])
        XCTAssertEqual(h.counts, [2, 3], "right edge included, NaN and out-of-range ignored")
    }
}

final class LayoutStressTests: XCTestCase {
    /// Every sample at several sizes and resolutions: no text overlaps another or a plot area.
    func testSamplesAtManySizesHaveNoOverlaps() throws {
        for (name, base) in SampleFigures.all() {
            for (scale, dpi) in [(0.45, 100.0), (0.7, 100.0), (1.0, 72.0), (1.0, 200.0), (1.6, 100.0)] {
                var fig = base
                fig.width *= scale; fig.height *= scale; fig.dpi = dpi
                do {
                    assertNoOverlaps(try fig.layout(), "\(name) ×\(scale) @\(dpi)")
                } catch PlotError.tooSmall, PlotError.labelDoesNotFit, PlotError.labelsOverlap {
                    XCTAssertLessThan(scale, 0.5, "\(name) ×\(scale) @\(dpi) should fit")   // only the tiny sizes may refuse
                }
            }
        }
    }
}

final class SmallAxisTests: XCTestCase {
    /// A short linear axis keeps at least two labels (thinning a denser set) rather than one.
    func testShortAxisKeepsTwoLabels() throws {
        var fig = Figure(width: 3, height: 1.9, dpi: 150)
        fig[0, 0].y = Axis(label: "y")
        fig[0, 0].plot([0, 1], [-2.6, 4.3])
        let l = try fig.layout()
        XCTAssertGreaterThanOrEqual(l.panels[0].yAxis.labels.count, 2)
        assertNoOverlaps(l, "short axis")
    }
}
