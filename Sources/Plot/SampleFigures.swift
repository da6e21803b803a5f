import Foundation

// One sample figure for every kind of panel the paper needs, from synthetic but paper-shaped data,
// so the renderer can be looked at (and regressions seen) without running any experiment.

public enum SampleFigures {
    /// Name (file stem) and figure of every sample.
    public static func all() -> [(name: String, figure: Figure)] {
        [("lines-with-bands", linesWithBands()), ("loglog-grid", logLogGrid()), ("heatmap-grid", heatmapGrid()),
         ("heatmap-diverging", outputGradients()), ("histograms", histograms()), ("error-bars", errorBars()),
         ("zoom-histograms", zoomHistograms())]
    }

    /// Writes every sample as PNG and SVG into `directory`; returns the PNG paths.
    @discardableResult
    public static func render(into directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try all().map { name, fig in
            let url = directory.appendingPathComponent(name + ".png")
            try fig.writePNG(to: url, metadata: ["Stage": "render-samples", "Sample": name])
            try fig.writeSVG(to: directory.appendingPathComponent(name + ".svg"))
            return url
        }
    }

    /// Deterministic standard normal samples (LCG + Box–Muller); no dependence on a system RNG.
    static func normals(_ n: Int, seed: UInt64) -> [Double] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        return (0..<n).map { _ in sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform()) }
    }

    static func linesWithBands() -> Figure {
        var fig = Figure(width: 10, height: 3.6, dpi: 150, rows: 1, columns: 2)
        let x = (0...200).map { Double($0) / 2 }
        let runs: [(String, Double, Double, Double)] = [("lr=0.003 (with BN)", 88.5, 90.3, 2), ("lr=0.1 (with BN)", 86, 93, 6),
                                                         ("lr=0.0001 (with BN)", 81, 81.3, 12), ("lr=0.0001 (w/o BN)", 80.5, 82, 14)]
        for (panel, name) in [(0, "train accuracy"), (1, "test accuracy")] {
            var p = Panel(x: Axis(label: "% of training", limits: .fixed(0, 100)), y: Axis(label: RichText(name)))
            for (i, run) in runs.enumerated() {
                let noise = normals(x.count, seed: UInt64(10 * panel + i))
                let mean = x.enumerated().map { j, t -> Double in
                    let before = run.1 + (panel == 0 ? 8 : 0), after = run.2 + (panel == 0 ? 9 : 0)
                    let rise = (1 - exp(-t / run.3)) * (t < 50 ? before : min(after, 100))
                    return min(100, 50 + (rise - 50) * 1 + noise[j] * 0.4)
                }
                let spread = x.map { t in 0.3 + 3 * exp(-t / 15) * (i == 3 ? 2 : 1) }
                p.plotWithBand(x, mean: mean, spread: spread, label: run.0)
            }
            p.y.limits = panel == 0 ? .fixed(60, 101) : .fixed(50, 95)
            p.legend = .lowerRight
            fig[0, panel] = p
        }
        return fig
    }

    static func logLogGrid() -> Figure {
        var fig = Figure(width: 9, height: 4.6, dpi: 150, rows: 2, columns: 3)
        fig.columnTitles = ["mini-batch 1", "mini-batch 4", "mini-batch 7"]
        fig.rowLabels = ["with BN", "w/o BN"]
        let steps = (0...120).map { pow(10, -4.9 + Double($0) * 0.035) }   // 1.3e-5 … 2e-1
        for (c, shift) in [0.0, 0.15, 0.5].enumerated() {
            var bn = Panel(x: Axis(label: c == 0 ? nil : nil, scale: .log), y: Axis(label: c == 0 ? "relative loss" : nil, scale: .log))
            bn.plot(steps, steps.map { s in 1 - 0.25 * s / (s + 0.01 * (1 + shift)) + 60 * pow(s, 2.2) })
            fig[0, c] = bn
            var nobn = Panel(x: Axis(label: "step size", scale: .log), y: Axis(label: c == 0 ? "relative loss" : nil, scale: .log, limits: .fixed(1e-2, 1e6)))
            nobn.plot(steps, steps.map { s in (c == 0 ? 1 - 0.8 * s / (s + 1e-4) : 1) + pow(s / (6e-4 * (1 + shift)), 5) })
            nobn.reference(.horizontal, at: 1e3, label: "divergence (10³)")
            nobn.legend = c == 0 ? .upperLeft : .none
            fig[1, c] = nobn
        }
        for c in 0..<3 { fig[0, c].x.limits = .fixed(1e-5, 0.25); fig[1, c].x.limits = .fixed(1e-5, 0.1) }
        return fig
    }

    static func heatmapGrid() -> Figure {
        var fig = Figure(width: 10, height: 5.5, dpi: 150, rows: 2, columns: 3)
        fig.columnTitles = ["Layer 8", "Layer 44", "Layer 80"]
        fig.rowLabels = ["means", "variances"]
        for (c, (channels, scale)) in [(16, 1.0), (32, 3000.0), (64, 3e8)].enumerated() {
            let noise = normals(channels, seed: UInt64(100 + c))
            for r in 0..<2 {
                var values: [Double] = []
                for step in 0..<100 {
                    let t = Double(step) / 99
                    for ch in 0..<channels {
                        let growth = c == 0 ? 1 + t * 0.5 : exp(12 * (t - 1))
                        let v = r == 0 ? noise[ch] * scale * growth : pow(noise[ch] * scale * growth, 2) * (c == 0 ? 0.4 : 1)
                        values.append(v)
                    }
                }
                var p = Panel(x: Axis(label: r == 1 ? "channel" : nil), y: Axis(label: c == 0 ? "% of step" : nil))
                p.heatmap(rows: 100, columns: channels, values: values)
                fig[r, c] = p
            }
        }
        return fig
    }

    static func outputGradients() -> Figure {
        var fig = Figure(width: 9, height: 3.4, dpi: 150, rows: 1, columns: 2)
        for (c, title) in ["w/o BN", "with BN"].enumerated() {
            let noise = normals(128 * 10, seed: UInt64(200 + c))
            var values: [Double] = []
            for b in 0..<128 {
                let label = Int((noise[b * 10].magnitude * 7).rounded(.down)) % 10
                for j in 0..<10 {
                    let p = c == 0 ? (j == 9 ? 0.97 : 0.003) : 0.1 + 0.02 * noise[b * 10 + j]
                    values.append((p - (j == label ? 1 : 0)) / 128)
                }
            }
            var p = Panel(title: RichText(title), x: Axis(label: "Class activation"), y: Axis(label: c == 0 ? "Image in batch" : nil))
            p.heatmap(rows: 128, columns: 10, values: values, colormap: .rdBuReversed, symmetric: true, colorBarLabel: "Gradient")
            fig[0, c] = p
        }
        return fig
    }

    static func histograms() -> Figure {
        var fig = Figure(width: 10, height: 3.6, dpi: 150, rows: 1, columns: 2)
        let g = normals(200_000, seed: 7)
        var bn = Panel(title: "with BN", x: Axis(label: "gradient magnitude"), y: Axis(label: "counts"))
        bn.histogram(values: g.map { 0.002 + 0.013 * $0 }, bins: 400)
        var nobn = Panel(title: "w/o BN", x: Axis(label: "gradient magnitude"), y: Axis(label: "counts"))
        // Heavy tails: a Gaussian scaled by a random variance (a Student-t like mixture).
        let scales = normals(200_000, seed: 8)
        nobn.histogram(values: zip(g, scales).map { $0 * 0.15 / max(0.05, abs($1)) }.filter { abs($0) < 4.3 }, bins: 400)
        fig[0, 0] = bn; fig[0, 1] = nobn
        return fig
    }

    static func errorBars() -> Figure {
        var fig = Figure(width: 6, height: 3.8, dpi: 150)
        let layers: [Double] = [6, 18, 30, 42, 54, 66, 78, 90, 102, 110]
        var p = Panel(x: Axis(label: "Layer", tickValues: layers), y: Axis(label: "Log [ magnitude ]"))
        let series: [(String, [Double])] = [
            ("channel means, with BN", [-0.95, 0.23, 0.53, -0.87, -0.30, 0.12, -1.12, -0.35, 0.02, -0.65]),
            ("channel stds, with BN", [0.07, 0.60, 0.90, 0.03, 0.62, 0.98, -0.02, 0.57, 0.90, -0.87]),
            ("channel means, w/o BN", [-1.55, -1.45, -0.28, -0.30, -0.38, 0.75, 1.25, 1.90, 2.85, 3.50]),
            ("channel stds, w/o BN", [-1.27, -1.15, -0.27, -0.25, 0.13, 0.90, 1.42, 2.20, 3.02, 1.97])]
        for (i, s) in series.enumerated() {
            p.errorBars(layers, s.1, error: normals(10, seed: UInt64(300 + i)).map { 0.5 + 0.4 * abs($0) }, label: s.0,
                        capSize: 2, dodge: (Double(i) - 1.5) * 0.9)
        }
        fig[0, 0] = p
        return fig
    }

    static func zoomHistograms() -> Figure {
        var fig = Figure(width: 11, height: 3.2, dpi: 150, rows: 1, columns: 3)
        fig.style.panelGap = 40
        // Stand-ins with the right supports: a quarter circle on [0, 2] (one matrix, by rejection) and
        // ever more mass near 0 with longer tails for three and five (the real data come from the
        // random-matrices stage).
        let u = normals(60_000, seed: 9).map { 0.5 * (1 + erf($0 / sqrt(2))) }
        var quarter: [Double] = []
        var i = 0
        while quarter.count < 10_000 && i + 1 < 40_000 {
            let s = 2 * u[i], h = u[i + 1]
            if h * 2 <= sqrt(4 - s * s) { quarter.append(s) }
            i += 2
        }
        let sets: [(String, [Double])] = [("one matrix", quarter),
                                          ("three matrices", u[40_000..<50_000].map { 3.08 * pow($0, 3) }),
                                          ("five matrices", u[50_000..<60_000].map { 3.86 * pow($0, 5) })]
        for c in 0..<3 {
            var p = Panel(x: Axis(label: "singular value"), y: Axis(label: "counts"))
            for (i, s) in sets.enumerated() where i < 3 - c {
                p.histogram(values: s.1, bins: 50, range: 0...(c == 2 ? 2 : (c == 1 ? 3.08 : 3.86)), label: s.0, alpha: 0.5)
            }
            p.legend = .upperRight
            fig[0, c] = p
        }
        fig.zoom(from: PanelIndex(0, 0), x: -0.05...3.1, y: 0...2300, to: PanelIndex(0, 1))
        fig.zoom(from: PanelIndex(0, 1), x: -0.05...2.05, y: 0...500, to: PanelIndex(0, 2))
        return fig
    }
}
