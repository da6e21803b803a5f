// Measured, placed text: the layout decides where every string goes, so overlaps can be checked
// (and tested) before anything is drawn.

/// Logical metrics of a string in pixels: advance width, and ascent/descent from the font (not the
/// glyphs), so labels of one row share a baseline whatever letters they contain.
public struct TextMetrics: Equatable, Sendable {
    public var width: Double
    public var ascent: Double
    public var descent: Double
    public var height: Double { ascent + descent }
}

public protocol TextMeasuring {
    /// Metrics of `text` at `size` pixels (em size).
    func measure(_ text: RichText, size: Double) -> TextMetrics
}

public enum Rotation: Equatable, Sendable {
    case none
    /// Reads bottom to top (y-axis labels).
    case up
    /// Reads top to bottom (row labels and colour-bar labels at the right).
    case down
}

public struct PlacedText: Equatable, Sendable {
    public var text: RichText
    /// Em size in pixels.
    public var size: Double
    public var rotation: Rotation
    /// Baseline start of the first run, in the rotated frame's origin.
    public var origin: Point
    /// The axis-aligned box the text occupies on the page.
    public var box: Rect
    /// What this text is, for tests and debugging ("x tick", "title").
    public var role: String
}

public enum HAlign: Sendable { case left, center, right }
public enum VAlign: Sendable { case top, center, bottom }

extension TextMeasuring {
    /// Places `text` so that its on-page box is aligned to `anchor` as asked.
    func place(_ text: RichText, size: Double, at anchor: Point, h: HAlign, v: VAlign,
               rotation: Rotation = .none, role: String) -> PlacedText {
        let m = measure(text, size: size)
        let (bw, bh) = rotation == .none ? (m.width, m.height) : (m.height, m.width)
        let minX: Double
        switch h {
        case .left: minX = anchor.x
        case .center: minX = anchor.x - bw / 2
        case .right: minX = anchor.x - bw
        }
        let minY: Double
        switch v {
        case .top: minY = anchor.y
        case .center: minY = anchor.y - bh / 2
        case .bottom: minY = anchor.y - bh
        }
        let box = Rect(minX: minX, minY: minY, width: bw, height: bh)
        let origin: Point
        switch rotation {
        case .none: origin = Point(box.minX, box.minY + m.ascent)
        case .up: origin = Point(box.minX + m.ascent, box.maxY)
        case .down: origin = Point(box.maxX - m.ascent, box.minY)
        }
        return PlacedText(text: text, size: size, rotation: rotation, origin: origin, box: box, role: role)
    }
}
