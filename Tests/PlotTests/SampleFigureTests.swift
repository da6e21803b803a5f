import Foundation
import XCTest
@testable import Plot

/// Renders every sample figure (PNG and SVG). Set PLOT_SAMPLES_DIR to keep them for looking at.
final class SampleFigureTests: XCTestCase {
    func testRenderSamples() throws {
        let dir: URL
        if let keep = ProcessInfo.processInfo.environment["PLOT_SAMPLES_DIR"] {
            dir = URL(fileURLWithPath: keep)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("plot-samples-\(getpid())")
        }
        let urls = try SampleFigures.render(into: dir)
        XCTAssertEqual(urls.count, SampleFigures.all().count)
        for (name, fig) in SampleFigures.all() {
            let layout = try fig.layout()
            assertNoOverlaps(layout, name)
            let png = try PNGReader.read(dir.appendingPathComponent(name + ".png"))
            XCTAssertEqual(png.width, fig.pixelWidth, name)
            XCTAssertEqual(png.height, fig.pixelHeight, name)
            XCTAssertEqual(png.text["Sample"], name)
            XCTAssertEqual(png.text["Title"], name, "untitled figures are titled by their file name")
            let svg = try String(contentsOf: dir.appendingPathComponent(name + ".svg"), encoding: .utf8)
            XCTAssertTrue(svg.contains("<svg"), name)
        }
        if ProcessInfo.processInfo.environment["PLOT_SAMPLES_DIR"] == nil { try? FileManager.default.removeItem(at: dir) }
    }
}

/// No two texts of a figure overlap, and no text crosses into a plot area (except legends, which sit inside).
func assertNoOverlaps(_ layout: FigureLayout, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let texts = layout.allTexts
    for i in texts.indices {
        for j in texts.indices where j > i && texts[i].box.intersects(texts[j].box) {
            XCTFail("\(name): '\(texts[i].text.plain)' (\(texts[i].role)) overlaps '\(texts[j].text.plain)' (\(texts[j].role))",
                    file: file, line: line)
        }
    }
    for p in layout.panels {
        for t in texts where t.role != "legend" && t.box.insetBy(0.5).intersects(p.plot) {
            XCTFail("\(name): '\(t.text.plain)' (\(t.role)) overlaps the plot area of panel \(p.index)", file: file, line: line)
        }
    }
    for t in texts {
        XCTAssertTrue(t.box.minX >= -0.5 && t.box.minY >= -0.5 && t.box.maxX <= Double(layout.width) + 0.5
                      && t.box.maxY <= Double(layout.height) + 0.5, "\(name): '\(t.text.plain)' (\(t.role)) leaves the figure",
                      file: file, line: line)
    }
}
