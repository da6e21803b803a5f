/// Rows of cells as aligned text columns, two spaces apart: what every table the commands print
/// (`ls`, `status --times`, `estimate`, `audit`) is made of. Columns in `rightAligned` (numbers) are
/// padded on the left; the last column is not padded.
public enum TextTable {
    /// One line per row, the first row usually the header.
    public static func lines(_ rows: [[String]], rightAligned: Set<Int> = [], indent: String = "") -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            indent + row.enumerated().map { c, cell in
                let fill = String(repeating: " ", count: max(0, widths[c] - cell.count))
                if rightAligned.contains(c) { return fill + cell }
                return c == row.count - 1 ? cell : cell + fill
            }.joined(separator: "  ")
        }
    }

    public static func render(_ rows: [[String]], rightAligned: Set<Int> = [], indent: String = "") -> String {
        lines(rows, rightAligned: rightAligned, indent: indent).joined(separator: "\n")
    }
}
