import Foundation
import XCTest
@testable import Plot

final class RenderTests: XCTestCase {
    /// A 200 × 150 figure with a thick red horizontal line at y = 5 and a vertical blue one at x = 2.
    func lineFigure() -> Figure {
        var fig = Figure(width: 4, height: 3, dpi: 50)
        var p = Panel(x: Axis(label: "x", limits: .fixed(0, 10)), y: Axis(label: "y", limits: .fixed(0, 10)))
        p.plot([0, 5, 10], [5, 5, 5], label: "flat", color: .tabRed, width: 4)
        p.plot([2, 2], [0, 10], color: .tabBlue, width: 4)
        p.legend = .none
        fig[0, 0] = p
        fig.title = "test figure"
        return fig
    }

    func testPNGReadBackSizeTextAndPixels() throws {
        let fig = lineFigure()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plot-render-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("line.png")
        try fig.writePNG(to: url, metadata: ["StageKey": "abc123", "Params": #"{"lr":0.1}"#, "GitCommit": "deadbeef"])

        let png = try PNGReader.read(url)
        XCTAssertEqual(png.width, 200)
        XCTAssertEqual(png.height, 150)
        XCTAssertEqual(png.bitDepth, 8)
        XCTAssertEqual(png.colorType, 6)   // RGBA
        XCTAssertEqual(png.text["Title"], "test figure")
        XCTAssertTrue(png.text["Software"]?.hasPrefix("bnrepro Plot") ?? false)
        XCTAssertEqual(png.text["StageKey"], "abc123")
        XCTAssertEqual(png.text["Params"], #"{"lr":0.1}"#)
        XCTAssertEqual(png.text["GitCommit"], "deadbeef")
        XCTAssertEqual(png.textKeys, ["Title", "Software", "GitCommit", "Params", "StageKey"])

        // The line's colour where the data say it is, and not elsewhere.
        let t = try fig.layout().panels[0].transform
        let red = Color.tabRed.rgba8, blue = Color.tabBlue.rgba8
        for x in [1.0, 5, 8.5] {
            let p = png.pixel(Int(t.px(x)), Int(t.py(5)))
            XCTAssertEqual([p.0, p.1, p.2, p.3], [red.0, red.1, red.2, 255], "red line at x = \(x)")
        }
        let b = png.pixel(Int(t.px(2)), Int(t.py(8)))
        XCTAssertEqual([b.0, b.1, b.2], [blue.0, blue.1, blue.2])
        let empty = png.pixel(Int(t.px(7)), Int(t.py(8)))
        XCTAssertEqual([empty.0, empty.1, empty.2, empty.3], [255, 255, 255, 255])
        // No stray temp files beside the output.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["line.png"])
    }

    func testSameFigureSameBytes() throws {
        let a = try lineFigure().pngData(metadata: ["k": "v"])
        let b = try lineFigure().pngData(metadata: ["k": "v"])
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try lineFigure().pngData(metadata: ["k": "w"]))
    }

    func testHeatmapCellsAndColorBar() throws {
        var fig = Figure(width: 4, height: 3, dpi: 50)
        var p = Panel()
        p.heatmap(rows: 2, columns: 2, values: [0, 1, 2, 3], colorBarLabel: "v")
        fig[0, 0] = p
        let layout = try fig.layout()
        let rgba = try fig.renderRGBA()
        func px(_ x: Double, _ y: Double) -> [UInt8] {
            let o = (Int(y) * fig.pixelWidth + Int(x)) * 4
            return Array(rgba[o..<o + 3])
        }
        let t = layout.panels[0].transform
        let low = Colormap.viridis.color(at: 0).rgba8, high = Colormap.viridis.color(at: 1).rgba8
        XCTAssertEqual(px(t.px(0), t.py(0)), [low.0, low.1, low.2], "row 0, column 0 is the minimum, drawn at the top left")
        XCTAssertEqual(px(t.px(1), t.py(1)), [high.0, high.1, high.2])
        XCTAssertLessThan(t.py(0), t.py(1), "row 0 is above row 1")
        // Colour bar: top is the maximum, bottom the minimum; its ticks are 0 … 3.
        guard let cb = layout.panels[0].colorBar else { return XCTFail("no colour bar") }
        for y in [cb.bar.minY + 2.5, cb.bar.midY, cb.bar.maxY - 2.5] {
            let want = Colormap.viridis.color(at: (cb.bar.maxY - y) / cb.bar.height).rgba8
            let got = px(cb.bar.midX, y)
            for (g, w) in zip(got, [want.0, want.1, want.2]) { XCTAssertLessThanOrEqual(abs(Int(g) - Int(w)), 4, "colour bar at y = \(y)") }
        }
        XCTAssertEqual(cb.axis.ticks.labels.first, "0.0")
        XCTAssertEqual(cb.axis.ticks.labels.last, "3.0")
    }

    func testSVGIsWrittenAndReproducible() throws {
        var heat = Figure(width: 3, height: 2, dpi: 50)
        heat[0, 0].heatmap(rows: 2, columns: 3, values: [0, 1, 2, 3, 4, 5], colorBarLabel: "v")
        let a = try heat.svgData(), b = try heat.svgData()
        XCTAssertEqual(a, b, "ids renumbered, so drawing twice gives the same bytes")
        let text = String(decoding: a, as: UTF8.self)
        XCTAssertTrue(text.contains("id=\"image-"))
        XCTAssertFalse(text.contains("href=\"#image9"))
        let svg = String(decoding: try lineFigure().svgData(), as: UTF8.self)
        XCTAssertTrue(svg.contains("<svg"))
        XCTAssertTrue(svg.contains("width=\"200"))
    }

    func testValidationNamesPanelMarkAndField() {
        var fig = Figure(width: 4, height: 3, dpi: 50, rows: 1, columns: 2)
        fig[0, 1].plot([1, 2, 3], [1, 2], label: "loss")
        XCTAssertThrowsError(try fig.layout()) { e in
            XCTAssertEqual(e as? PlotError, .mismatchedLengths(panel: PanelIndex(0, 1), mark: "mark 0 'loss'", field: "y", expected: 3, got: 2))
            XCTAssertTrue("\(e)".contains("row 0, column 1"))
        }
        var log = Figure(width: 4, height: 3, dpi: 50)
        log[0, 0].y = Axis(scale: .log, limits: .fixed(0, 10))
        XCTAssertThrowsError(try log.layout())
        XCTAssertThrowsError(try PNGWriter.encode(width: 1, height: 1, rgba: [0, 0, 0, 0], text: [("bad  key", "v")]))
    }

    func testNonLatin1MetadataRoundTrips() throws {
        let bytes = try PNGWriter.encode(width: 1, height: 1, rgba: [1, 2, 3, 4], text: [("Params", "σ = 10⁻³")])
        let png = try PNGReader.decode(bytes)
        XCTAssertEqual(png.text["Params"], "σ = 10⁻³")
        XCTAssertEqual(png.pixel(0, 0).0, 1)
        XCTAssertEqual(png.pixel(0, 0).3, 4)
    }

    func testNaNBreaksLineAndLogDropsNonPositive() throws {
        var fig = Figure(width: 4, height: 3, dpi: 50)
        var p = Panel(x: Axis(limits: .fixed(0, 10)), y: Axis(scale: .log, limits: .fixed(0.1, 100)))
        p.plot([0, 1, 2, 3, 4], [1, .nan, 1, 0, 1], color: .black, width: 3)
        fig[0, 0] = p
        let r = FigureRenderer(figure: fig, layout: try fig.layout())
        let runs = r.segments([0, 1, 2, 3, 4], [1, .nan, 1, 0, 1], r.layout.panels[0].transform)
        XCTAssertEqual(runs.map(\.count), [1, 1, 1])
        XCTAssertNoThrow(try fig.renderRGBA())
    }
}
