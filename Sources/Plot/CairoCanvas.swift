import CCairo

// The Cairo backend: owns a surface and its context, draws placed text and primitive shapes.
// Figure-level drawing (what goes where) lives in FigureRenderer; this file only knows Cairo.

/// Text metrics from Cairo's toy font API with DejaVu Sans (found by fontconfig). Hinting is off so
/// the same layout comes out on image and SVG surfaces.
final class CairoTextMeasurer: TextMeasuring {
    private let surface: OpaquePointer
    private let cr: OpaquePointer
    private let family: String

    init(family: String) throws {
        guard let s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1) else { throw PlotError.cairo(operation: "measure surface", status: "nil") }
        guard let c = cairo_create(s) else { cairo_surface_destroy(s); throw PlotError.cairo(operation: "measure context", status: "nil") }
        surface = s; cr = c; self.family = family
        CairoCanvas.configureText(cr, family: family)
    }

    deinit { cairo_destroy(cr); cairo_surface_destroy(surface) }

    func measure(_ text: RichText, size: Double) -> TextMetrics {
        CairoCanvas.measure(cr, text, size: size)
    }
}

final class CairoCanvas {
    let surface: OpaquePointer
    let cr: OpaquePointer

    /// Takes ownership of `surface`.
    init(surface: OpaquePointer, family: String) throws {
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw PlotError.cairo(operation: "create surface", status: String(cString: cairo_status_to_string(status)))
        }
        guard let c = cairo_create(surface) else { cairo_surface_destroy(surface); throw PlotError.cairo(operation: "create context", status: "nil") }
        self.surface = surface; cr = c
        CairoCanvas.configureText(cr, family: family)
    }

    deinit { cairo_destroy(cr); cairo_surface_destroy(surface) }

    func check(_ operation: String) throws {
        let status = cairo_status(cr)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw PlotError.cairo(operation: operation, status: String(cString: cairo_status_to_string(status)))
        }
    }

    static func configureText(_ cr: OpaquePointer, family: String) {
        cairo_select_font_face(cr, family, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        let opts = cairo_font_options_create()
        cairo_font_options_set_antialias(opts, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF)
        cairo_set_font_options(cr, opts)
        cairo_font_options_destroy(opts)
    }

    // Superscripts: 70 % size, baseline raised by 45 % of the main size.
    static let superscriptScale = 0.7
    static let superscriptRise = 0.45

    static func measure(_ cr: OpaquePointer, _ text: RichText, size: Double) -> TextMetrics {
        cairo_set_font_size(cr, size)
        var fe = cairo_font_extents_t()
        cairo_font_extents(cr, &fe)
        var width = 0.0, ascent = fe.ascent
        for run in text.runs {
            let s = run.superscript ? size * superscriptScale : size
            cairo_set_font_size(cr, s)
            var te = cairo_text_extents_t()
            cairo_text_extents(cr, run.text, &te)
            width += te.x_advance
            if run.superscript { ascent = max(ascent, size * superscriptRise + fe.ascent * superscriptScale) }
        }
        return TextMetrics(width: width, ascent: ascent, descent: fe.descent)
    }

    // MARK: primitives

    func setColor(_ c: Color) { cairo_set_source_rgba(cr, c.red, c.green, c.blue, c.alpha) }

    func fill(_ r: Rect, _ c: Color) {
        setColor(c)
        cairo_rectangle(cr, r.minX, r.minY, r.width, r.height)
        cairo_fill(cr)
    }

    func strokeRect(_ r: Rect, _ c: Color, width: Double) {
        setColor(c)
        cairo_set_line_width(cr, width)
        cairo_set_dash(cr, nil, 0, 0)
        cairo_rectangle(cr, r.minX, r.minY, r.width, r.height)
        cairo_stroke(cr)
    }

    func path(_ pts: [Point], close: Bool = false) {
        guard let first = pts.first else { return }
        cairo_move_to(cr, first.x, first.y)
        for p in pts.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        if close { cairo_close_path(cr) }
    }

    func stroke(_ pts: [Point], _ c: Color, width: Double, dash: [Double] = [], cap: cairo_line_cap_t = CAIRO_LINE_CAP_BUTT) {
        guard pts.count >= 2 else { return }
        setColor(c)
        cairo_set_line_width(cr, width)
        cairo_set_line_cap(cr, cap)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
        path(pts)
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    func fillPolygon(_ pts: [Point], _ c: Color) {
        guard pts.count >= 3 else { return }
        setColor(c)
        path(pts, close: true)
        cairo_fill(cr)
    }

    func circle(_ p: Point, radius: Double, _ c: Color) {
        setColor(c)
        cairo_new_sub_path(cr)
        cairo_arc(cr, p.x, p.y, radius, 0, 2 * Double.pi)
        cairo_fill(cr)
    }

    func clip(_ r: Rect) {
        cairo_save(cr)
        cairo_rectangle(cr, r.minX, r.minY, r.width, r.height)
        cairo_clip(cr)
    }

    func unclip() { cairo_restore(cr) }

    func text(_ t: PlacedText, _ c: Color = .black) {
        cairo_save(cr)
        setColor(c)
        cairo_translate(cr, t.origin.x, t.origin.y)
        switch t.rotation {
        case .none: break
        case .up: cairo_rotate(cr, -Double.pi / 2)
        case .down: cairo_rotate(cr, Double.pi / 2)
        }
        var x = 0.0
        for run in t.text.runs {
            let size = run.superscript ? t.size * Self.superscriptScale : t.size
            cairo_set_font_size(cr, size)
            cairo_move_to(cr, x, run.superscript ? -t.size * Self.superscriptRise : 0)
            var te = cairo_text_extents_t()
            cairo_text_extents(cr, run.text, &te)
            cairo_show_text(cr, run.text)
            x += te.x_advance
        }
        cairo_restore(cr)
    }

    /// Draws a rows × columns grid of colours, cell (0, 0) with its corner at `origin` and cell
    /// (rows−1, columns−1) with its far corner at `far`, without smoothing between cells.
    func image(rows: Int, columns: Int, origin: Point, far: Point, color: (Int, Int) -> Color) throws {
        guard rows > 0, columns > 0, let img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(columns), Int32(rows)) else { return }
        defer { cairo_surface_destroy(img) }
        cairo_surface_flush(img)
        guard let data = cairo_image_surface_get_data(img) else { throw PlotError.cairo(operation: "heat map image", status: "no data") }
        let stride = Int(cairo_image_surface_get_stride(img))
        for r in 0..<rows {
            let row = (data + r * stride).withMemoryRebound(to: UInt32.self, capacity: columns) { $0 }
            for c in 0..<columns {
                // Cairo wants premultiplied ARGB in native-endian 32-bit words.
                let col = color(r, c)
                let a = max(0, min(1, col.alpha))
                func q(_ v: Double) -> UInt32 { UInt32(max(0, min(255, (v * a * 255).rounded()))) }
                row[c] = (UInt32((a * 255).rounded()) << 24) | (q(col.red) << 16) | (q(col.green) << 8) | q(col.blue)
            }
        }
        cairo_surface_mark_dirty(img)
        cairo_save(cr)
        cairo_translate(cr, origin.x, origin.y)
        cairo_scale(cr, (far.x - origin.x) / Double(columns), (far.y - origin.y) / Double(rows))
        cairo_set_source_surface(cr, img, 0, 0)
        if let pattern = cairo_get_source(cr) {
            cairo_pattern_set_filter(pattern, CAIRO_FILTER_NEAREST)
            cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
        }
        cairo_rectangle(cr, 0, 0, Double(columns), Double(rows))
        cairo_fill(cr)
        cairo_restore(cr)
    }
}
