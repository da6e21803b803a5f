import CCairo
import AtomicIO
import CLibPNG
import Foundation

// The public entry points that turn a Figure into pixels or files.

extension Figure {
    /// The layout the renderer will use: where every panel, tick and label goes.
    public func layout() throws -> FigureLayout {
        try validate()
        let l = FigureLayout.compute(self, measurer: try CairoTextMeasurer(family: style.fontFamily))
        // Below this the labels cannot fit; better a clear error than a figure of overlapping text.
        let minimum = 24 * dpi / 72
        for p in l.panels where p.plot.width < minimum || p.plot.height < minimum {
            throw PlotError.tooSmall(panel: p.index, width: p.plot.width, height: p.plot.height)
        }
        for t in l.allTexts where t.box.minX < -0.5 || t.box.minY < -0.5 || t.box.maxX > Double(l.width) + 0.5 || t.box.maxY > Double(l.height) + 0.5 {
            throw PlotError.labelDoesNotFit(text: t.text.plain, role: t.role, width: l.width, height: l.height)
        }
        // The layout is built so that text never overlaps; if a label is longer than its axis it can
        // still happen, and a figure with colliding labels is not one we publish.
        let texts = l.allTexts
        for i in texts.indices {
            for j in texts.indices where j > i && texts[i].box.insetBy(0.5).intersects(texts[j].box) {
                throw PlotError.labelsOverlap(first: texts[i].text.plain, firstRole: texts[i].role,
                                              second: texts[j].text.plain, secondRole: texts[j].role)
            }
        }
        return l
    }

    /// Straight 8-bit RGBA pixels, row-major, pixelWidth × pixelHeight.
    public func renderRGBA() throws -> [UInt8] {
        let l = try layout()
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(pixelWidth), Int32(pixelHeight)) else {
            throw PlotError.cairo(operation: "image surface", status: "nil")
        }
        let canvas = try CairoCanvas(surface: surface, family: style.fontFamily)
        try FigureRenderer(figure: self, layout: l).draw(on: canvas)
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { throw PlotError.cairo(operation: "read pixels", status: "no data") }
        return PNGWriter.rgba(fromARGB32: data, width: pixelWidth, height: pixelHeight,
                              stride: Int(cairo_image_surface_get_stride(surface)))
    }

    /// PNG bytes with tEXt chunks Title (the figure's title, else metadata["Title"], else `name`), Software,
    /// then the rest of `metadata` sorted by key, so the same figure and metadata give the same bytes.
    public func pngData(metadata: [String: String] = [:], name: String = "figure") throws -> [UInt8] {
        var text: [(key: String, value: String)] = []
        text.append(("Title", title?.plain ?? metadata["Title"] ?? name))
        let libpng = png_get_libpng_ver(nil).map { String(cString: $0) } ?? "?"
        text.append(("Software", metadata["Software"] ?? "bnrepro Plot (cairo \(String(cString: cairo_version_string())), libpng \(libpng))"))
        for k in metadata.keys.sorted() where k != "Title" && k != "Software" { text.append((k, metadata[k] ?? "")) }
        return try PNGWriter.encode(width: pixelWidth, height: pixelHeight, rgba: try renderRGBA(), text: text)
    }

    /// Writes the PNG atomically. Put provenance in `metadata`: stage key, params, git commit.
    public func writePNG(to url: URL, metadata: [String: String] = [:]) throws {
        try AtomicFile.write(try pngData(metadata: metadata, name: url.deletingPathExtension().lastPathComponent), to: url)
    }

    /// SVG bytes through Cairo's SVG surface (1 unit = 1 pixel of the PNG).
    public func svgData() throws -> [UInt8] {
        let l = try layout()
        let sink = ByteSink()
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        guard let surface = cairo_svg_surface_create_for_stream({ closure, data, length in
            guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }, closure, Double(pixelWidth), Double(pixelHeight)) else { throw PlotError.cairo(operation: "svg surface", status: "nil") }
        cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
        do {
            let canvas = try CairoCanvas(surface: surface, family: style.fontFamily)
            try FigureRenderer(figure: self, layout: l).draw(on: canvas)
            cairo_surface_finish(canvas.surface)
            let status = cairo_surface_status(canvas.surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw PlotError.cairo(operation: "finish svg", status: String(cString: cairo_status_to_string(status))) }
        }
        return SVGIds.canonical(withExtendedLifetime(sink) { sink.bytes })
    }

    public func writeSVG(to url: URL) throws {
        try AtomicFile.write(try svgData(), to: url)
    }
}
