// Plot: publication figures for bnrepro, in the split matplotlib made familiar.
//
//   Figure (size, dpi, grid of Panels, column titles, row labels, shared legend, zooms)
//     └ Panel (title, x/y Axis, Marks, legend location, optional ColorBar)
//         └ Mark: Line, Band, ErrorBars, Histogram, Heatmap, RectMark, ReferenceLine
//
// A Figure is plain data built by experiment-free code. `figure.layout()` measures every string
// with Cairo (DejaVu Sans) and places ticks, labels, titles and legends so none overlap;
// CairoCanvas/FigureRenderer draw; PNGWriter encodes through libpng with tEXt provenance;
// SVG goes through Cairo's SVG surface. Ticks (TickGenerator) and colour maps are small pure pieces.
//
//     var fig = Figure(width: 9, height: 3.5, dpi: 150, rows: 1, columns: 2)
//     fig[0, 0].x = Axis(label: "% of training")
//     fig[0, 0].y = Axis(label: "test accuracy")
//     fig[0, 0].plotWithBand(x, mean: m, spread: sd, label: "lr=0.1 (with BN)")
//     fig[0, 1].x = Axis(label: "step size", scale: .log)
//     fig[0, 1].y = Axis(label: "relative loss", scale: .log, limits: .fixed(1e-2, 1e6))
//     fig[0, 1].plot(steps, ratios)
//     try fig.writePNG(to: url, metadata: ["StageKey": key, "Params": json, "GitCommit": commit])
//     try fig.writeSVG(to: svgURL)
//
// See Tests/PlotTests/APIExampleTests.swift for every panel kind the paper needs, and
// SampleFigures.render(into:) for a rendered sample of each.
