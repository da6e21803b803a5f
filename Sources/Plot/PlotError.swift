import Foundation

/// Errors name the panel, mark and field, or the file, so the caller can act on them.
public enum PlotError: Error, Equatable, CustomStringConvertible {
    case invalidSize(width: Double, height: Double, dpi: Double)
    case mismatchedLengths(panel: PanelIndex, mark: String, field: String, expected: Int, got: Int)
    case invalidLimits(panel: PanelIndex, axis: String, reason: String)
    case tooSmall(panel: PanelIndex, width: Double, height: Double)
    case labelDoesNotFit(text: String, role: String, width: Int, height: Int)
    case labelsOverlap(first: String, firstRole: String, second: String, secondRole: String)
    case invalidMetadataKey(String)
    case cairo(operation: String, status: String)
    case png(operation: String)
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .invalidSize(w, h, dpi):
            return "figure size \(w) × \(h) in at \(dpi) dpi is not drawable; use positive sizes below 20000 pixels"
        case let .mismatchedLengths(p, mark, field, expected, got):
            return "panel (row \(p.row), column \(p.column)), \(mark): '\(field)' has \(got) values, expected \(expected)"
        case let .invalidLimits(p, axis, reason):
            return "panel (row \(p.row), column \(p.column)), \(axis) axis: \(reason)"
        case let .tooSmall(p, w, h):
            return "panel (row \(p.row), column \(p.column)) would be \(Int(w)) × \(Int(h)) pixels after its labels; make the figure larger or the fonts smaller"
        case let .labelDoesNotFit(text, role, w, h):
            return "the \(role) '\(text)' does not fit in the \(w) × \(h) pixel figure; make the figure larger or the fonts smaller"
        case let .labelsOverlap(a, ra, b, rb):
            return "the \(ra) '\(a)' would overlap the \(rb) '\(b)'; make the figure larger, the label shorter or the fonts smaller"
        case let .invalidMetadataKey(k):
            return "PNG text key '\(k)' must be 1–79 printable Latin-1 characters without leading, trailing or double spaces"
        case let .cairo(op, status): return "cairo failed in \(op): \(status)"
        case let .png(op): return "libpng failed in \(op)"
        case let .io(path, op, e): return "\(op) '\(path)' failed: \(String(cString: strerror(e)))"
        }
    }
}

extension Figure {
    /// Checks what drawing would otherwise get wrong silently: array lengths, log limits, sizes.
    public func validate() throws {
        guard width > 0, height > 0, dpi > 0, pixelWidth >= 1, pixelHeight >= 1, pixelWidth <= 20000, pixelHeight <= 20000 else {
            throw PlotError.invalidSize(width: width, height: height, dpi: dpi)
        }
        for r in 0..<rows {
            for c in 0..<columns {
                let p = self[r, c], idx = PanelIndex(r, c)
                for (name, axis) in [("x", p.x), ("y", p.y)] {
                    if case let .fixed(a, b) = axis.limits {
                        guard a.isFinite, b.isFinite, a != b else {
                            throw PlotError.invalidLimits(panel: idx, axis: name, reason: "fixed limits \(a)…\(b) must be finite and distinct")
                        }
                        if axis.scale == .log && (a <= 0 || b <= 0) {
                            throw PlotError.invalidLimits(panel: idx, axis: name, reason: "log scale needs positive limits, got \(a)…\(b)")
                        }
                    }
                    if let v = axis.tickValues, let l = axis.tickLabels, v.count != l.count {
                        throw PlotError.mismatchedLengths(panel: idx, mark: "\(name) axis", field: "tickLabels", expected: v.count, got: l.count)
                    }
                }
                for (i, m) in p.marks.enumerated() {
                    try Self.check(m, name: "mark \(i)" + (m.label.map { " '\($0)'" } ?? ""), panel: idx)
                }
            }
        }
    }

    static func check(_ m: Mark, name: String, panel: PanelIndex) throws {
        func same(_ field: String, _ n: Int, _ expected: Int) throws {
            if n != expected { throw PlotError.mismatchedLengths(panel: panel, mark: name, field: field, expected: expected, got: n) }
        }
        switch m {
        case let .line(l): try same("y", l.y.count, l.x.count)
        case let .band(b): try same("lower", b.lower.count, b.x.count); try same("upper", b.upper.count, b.x.count)
        case let .errorBars(e):
            try same("y", e.y.count, e.x.count); try same("below", e.below.count, e.x.count); try same("above", e.above.count, e.x.count)
        case let .histogram(h): try same("edges", h.edges.count, h.counts.count + 1)
        case let .heatmap(h): try same("values", h.values.count, h.rows * h.columns)
        case .rect, .reference: break
        }
    }
}
