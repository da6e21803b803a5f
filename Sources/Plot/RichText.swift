// Text as a list of runs so that exponents are real raised glyphs (10⁻³), not "1e-03".

public struct TextRun: Equatable, Hashable, Sendable {
    public var text: String
    /// Drawn smaller and raised, as an exponent.
    public var superscript: Bool

    public init(_ text: String, superscript: Bool = false) {
        self.text = text; self.superscript = superscript
    }
}

public struct RichText: Equatable, Hashable, Sendable, ExpressibleByStringLiteral {
    public var runs: [TextRun]

    public init(_ text: String) { runs = [TextRun(text)] }
    public init(runs: [TextRun]) { self.runs = runs }
    public init(stringLiteral value: String) { self.init(value) }

    /// "10" with the exponent k raised; k = 0 is written "1" and k = 1 "10", as people write them.
    public static func powerOfTen(_ k: Int) -> RichText {
        if k == 0 { return RichText("1") }
        if k == 1 { return RichText("10") }
        return RichText(runs: [TextRun("10"), TextRun(minusSign(String(k)), superscript: true)])
    }

    /// The scale-offset label drawn at the end of an axis whose tick labels were divided by 10^k.
    public static func scaleOffset(_ k: Int) -> RichText {
        RichText(runs: [TextRun("×10"), TextRun(minusSign(String(k)), superscript: true)])
    }

    public var isEmpty: Bool { runs.allSatisfy { $0.text.isEmpty } }

    /// A one-line rendering with Unicode superscript digits, for tests, logs and alt text.
    public var plain: String {
        runs.map { $0.superscript ? Self.unicodeSuperscript($0.text) : $0.text }.joined()
    }

    static func minusSign(_ s: String) -> String { s.replacingOccurrences(of: "-", with: "\u{2212}") }

    static func unicodeSuperscript(_ s: String) -> String {
        let map: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵",
                                           "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "\u{2212}": "⁻", "-": "⁻",
                                           "+": "⁺", ".": "·"]
        return String(s.map { map[$0] ?? $0 })
    }
}
