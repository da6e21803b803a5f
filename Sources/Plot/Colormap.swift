// Colour maps as 256-entry lookup tables (the real published maps, see ColormapTables.swift).

public struct Colormap: Equatable, Sendable {
    public let name: String
    /// 256 entries of r, g, b, flattened.
    let table: [Double]
    let reversed: Bool

    public static let viridis = Colormap(name: "viridis", table: viridisTable, reversed: false)
    /// Diverging red–white–blue (ColorBrewer RdBu): low values red, high values blue.
    public static let rdBu = Colormap(name: "RdBu", table: rdbuTable, reversed: false)
    /// RdBu reversed: low values blue, high values red, the usual choice for signed quantities.
    public static let rdBuReversed = Colormap(name: "RdBu_r", table: rdbuTable, reversed: true)

    public var count: Int { table.count / 3 }

    /// The colour for t in 0...1 (clamped); NaN maps to transparent so missing cells show the background.
    public func color(at t: Double) -> Color {
        guard t.isFinite else { return Color(red: 0, green: 0, blue: 0, alpha: 0) }
        let n = count
        // Same binning as matplotlib: 256 equal bins over [0, 1], the top edge in the last bin.
        var i = Int((max(0, min(1, t)) * Double(n)).rounded(.down))
        if i >= n { i = n - 1 }
        if reversed { i = n - 1 - i }
        return Color(red: table[3 * i], green: table[3 * i + 1], blue: table[3 * i + 2])
    }
}
