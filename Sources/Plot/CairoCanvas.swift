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
    /// (rows−1, columns−1) with its far corner at `far`, with sharp cell edges.
    ///
    /// When cells are larger than pixels the grid is resampled (nearest cell) to the target's pixel
    /// size first, so the image is drawn 1:1: SVG viewers smooth scaled images, which would blur a
    /// 10 × 128 heat map into a gradient. When cells are smaller than pixels Cairo averages them.
    func image(rows: Int, columns: Int, origin: Point, far: Point, color: (Int, Int) -> Color) throws {
        guard rows > 0, columns > 0 else { return }
        let targetW = Int(abs(far.x - origin.x).rounded()), targetH = Int(abs(far.y - origin.y).rounded())
        let upsample = targetW >= columns && targetH >= rows
        let w = upsample ? max(1, targetW) : columns, h = upsample ? max(1, targetH) : rows
        guard let img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(w), Int32(h)) else { return }
        defer { cairo_surface_destroy(img) }
        cairo_surface_flush(img)
        guard let data = cairo_image_surface_get_data(img) else { throw PlotError.cairo(operation: "heat map image", status: "no data") }
        let stride = Int(cairo_image_surface_get_stride(img))
        // Cairo wants premultiplied ARGB in native-endian 32-bit words.
        func pack(_ col: Color) -> UInt32 {
            let a = max(0, min(1, col.alpha))
            func q(_ v: Double) -> UInt32 { UInt32(max(0, min(255, (v * a * 255).rounded()))) }
            return (UInt32((a * 255).rounded()) << 24) | (q(col.red) << 16) | (q(col.green) << 8) | q(col.blue)
        }
        let cellColumn = (0..<w).map { min(columns - 1, (2 * $0 + 1) * columns / (2 * w)) }
        var cache: [Int: UInt32] = [:]
        for y in 0..<h {
            let r = min(rows - 1, (2 * y + 1) * rows / (2 * h))
            let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            if y > 0, r == min(rows - 1, (2 * y - 1) * rows / (2 * h)) {
                row.update(from: UnsafeMutableRawPointer(data + (y - 1) * stride).assumingMemoryBound(to: UInt32.self), count: w)
                continue
            }
            cache.removeAll(keepingCapacity: true)
            for x in 0..<w {
                let c = cellColumn[x]
                if let v = cache[c] { row[x] = v; continue }
                let v = pack(color(r, c)); cache[c] = v; row[x] = v
            }
        }
        cairo_surface_mark_dirty(img)
        cairo_save(cr)
        cairo_translate(cr, origin.x, origin.y)
        cairo_scale(cr, (far.x - origin.x) / Double(w), (far.y - origin.y) / Double(h))
        cairo_set_source_surface(cr, img, 0, 0)
        if let pattern = cairo_get_source(cr) {
            cairo_pattern_set_filter(pattern, upsample ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD)
            cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
        }
        cairo_rectangle(cr, 0, 0, Double(w), Double(h))
        cairo_fill(cr)
        cairo_restore(cr)
    }
}
