import Foundation
import XCTest
import Plot   // public API only, as the experiments use it

/// The usage examples of the report, compiled and run: if the API changes, this breaks.
final class APIExampleTests: XCTestCase {
    func testPublicAPIExamples() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plot-api-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // 1. A line chart with a mean ± std band (Fig. 1).
        let x = (0...100).map(Double.init)
        var lines = Figure(width: 5, height: 3.5, dpi: 100)
        lines[0, 0].x = Axis(label: "% of training", limits: .fixed(0, 100))
        lines[0, 0].y = Axis(label: "test accuracy")
        lines[0, 0].plotWithBand(x, mean: x.map { 90 - 30 * exp(-$0 / 10) }, spread: x.map { _ in 1.5 }, label: "lr=0.1 (with BN)")
        lines[0, 0].plot(x, x.map { 80 - 30 * exp(-$0 / 20) }, label: "lr=0.0001 (w/o BN)", dash: .dashed)
        lines[0, 0].legend = .lowerRight
        try lines.writePNG(to: dir.appendingPathComponent("lines.png"), metadata: ["StageKey": "k1", "GitCommit": "abc"])

        // 2. A 2 × 3 log-log grid with column titles and row labels (Fig. 3).
        var grid = Figure(width: 9, height: 4.5, dpi: 100, rows: 2, columns: 3)
        grid.columnTitles = ["mini-batch 1", "mini-batch 4", "mini-batch 7"]
        grid.rowLabels = ["with BN", "w/o BN"]
        let steps = (0...60).map { pow(10, -5 + Double($0) * 0.07) }
        for r in 0..<2 {
            for c in 0..<3 {
                var p = Panel(x: Axis(label: r == 1 ? "step size" : nil, scale: .log),
                              y: Axis(label: c == 0 ? "relative loss" : nil, scale: .log,
                                      limits: r == 1 ? .fixed(1e-2, 1e6) : .auto))
                p.plot(steps, steps.map { 1 + pow($0 / (r == 0 ? 0.05 : 1e-3), 3) })
                grid[r, c] = p
            }
        }
        try grid.writePNG(to: dir.appendingPathComponent("grid.png"))

        // 3. A heat map with a colour bar (Fig. 6): 128 images × 10 classes.
        var heat = Figure(width: 4.5, height: 3.5, dpi: 100)
        heat[0, 0].title = "w/o BN"
        heat[0, 0].x = Axis(label: "Class activation")
        heat[0, 0].y = Axis(label: "Image in batch")
        heat[0, 0].heatmap(rows: 128, columns: 10, values: (0..<1280).map { Double($0 % 10 == 9 ? 1 : -($0 % 7 == 0 ? 1 : 0)) / 128 },
                           colormap: .viridis, colorBarLabel: "Gradient")
        try heat.writePNG(to: dir.appendingPathComponent("heat.png"))

        // 4. Overlaid semi-transparent histograms (Fig. 8), binned by the library or given as counts.
        var hist = Figure(width: 5, height: 3.5, dpi: 100)
        hist[0, 0].x = Axis(label: "singular value")
        hist[0, 0].y = Axis(label: "counts")
        hist[0, 0].histogram(values: (0..<5000).map { 2 * sin(Double($0) * 0.37).magnitude }, bins: 50, label: "one matrix", alpha: 0.5)
        hist[0, 0].histogram(edges: [0, 1, 2, 3], counts: [300, 100, 20], label: "three matrices", alpha: 0.5)
        try hist.writePNG(to: dir.appendingPathComponent("hist.png"))
        try hist.writeSVG(to: dir.appendingPathComponent("hist.svg"))

        for name in ["lines", "grid", "heat", "hist"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name + ".png").path), name)
        }
        XCTAssertEqual(try hist.layout().panels[0].legend?.entries.count, 2)
    }
}
