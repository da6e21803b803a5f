import Foundation

/// The Markdown our stages write (tables/calibration.md, table1.md): headings, paragraphs, `- ` lists,
/// `**bold**`, `` `code` `` and pipe tables, turned into HTML. Not a general Markdown parser.
public enum MarkdownHTML {
    /// `headingOffset` moves `#` down to fit under the report's own headings.
    public static func render(_ markdown: String, headingOffset: Int, tableLabel: String) -> HTML {
        var blocks: [HTML] = [], paragraph: [String] = [], list: [String] = [], table: [String] = []
        func flush() {
            if !paragraph.isEmpty { blocks.append("<p>\(inline(paragraph.joined(separator: " ")))</p>") }
            if !list.isEmpty { blocks.append("<ul>\(list.map { "<li>\(inline($0))</li>" as HTML })</ul>") }
            if !table.isEmpty { blocks.append(self.table(table, label: tableLabel)) }
            paragraph = []; list = []; table = []
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || (line.hasPrefix("<!--") && line.hasSuffix("-->")) { flush(); continue }
            if line.hasPrefix("|") {
                if table.isEmpty { flush() }
                table.append(line)
            } else if line.hasPrefix("#") {
                flush()
                let level = min(6, line.prefix { $0 == "#" }.count + headingOffset)
                let text = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                blocks.append(HTML(trusted: "<h\(level)>\(inline(text).markup)</h\(level)>"))
            } else if line.hasPrefix("- ") {
                if !paragraph.isEmpty || !table.isEmpty { flush() }
                list.append(String(line.dropFirst(2)))
            } else if !list.isEmpty && raw.hasPrefix(" ") {
                list[list.count - 1] += " " + line
            } else {
                if !list.isEmpty || !table.isEmpty { flush() }
                paragraph.append(line)
            }
        }
        flush()
        return blocks.joined(separator: "\n")
    }

    /// A pipe table: the first row is the header, the `|---|` row is skipped.
    static func table(_ rows: [String], label: String) -> HTML {
        let cells = rows.map(splitRow).filter { !$0.allSatisfy { $0.allSatisfy { "-: ".contains($0) } } }
        guard let header = cells.first else { return "" }
        let head: [HTML] = header.map { "<th scope=\"col\">\(inline($0))</th>" }
        let body: [HTML] = cells.dropFirst().map { row in
            "<tr>\(row.map { "<td>\(inline($0))</td>" as HTML })</tr>"
        }
        return ScrollingTable.wrap("<table class=\"sortable numbers\"><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table>", label: label)
    }

    /// Cells of `| a | b \| c |`; `\|` is a literal bar.
    static func splitRow(_ row: String) -> [String] {
        var cells: [String] = [], cell = "", escaped = false
        for ch in row.trimmingCharacters(in: .whitespaces).dropFirst() {
            if escaped { cell.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == "|" { cells.append(cell.trimmingCharacters(in: .whitespaces)); cell = ""; continue }
            cell.append(ch)
        }
        if !cell.trimmingCharacters(in: .whitespaces).isEmpty { cells.append(cell.trimmingCharacters(in: .whitespaces)) }
        return cells
    }

    /// `**bold**` and `` `code` `` on escaped text (escaping leaves `*` and `` ` `` alone).
    static func inline(_ text: String) -> HTML {
        var out = HTML.escape(text)
        out = replacePairs(out, marker: "**", open: "<strong>", close: "</strong>")
        out = replacePairs(out, marker: "`", open: "<code>", close: "</code>")
        return HTML(trusted: out)
    }

    static func replacePairs(_ text: String, marker: String, open: String, close: String) -> String {
        let parts = text.components(separatedBy: marker)
        guard parts.count >= 3 else { return text }
        var out = parts[0]
        for i in 1..<parts.count {
            // An unpaired last marker stays as written.
            if i % 2 == 1 && i == parts.count - 1 { out += marker + parts[i]; continue }
            out += (i % 2 == 1 ? open : close) + parts[i]
        }
        return out
    }
}

/// A table inside its own horizontally scrolling, keyboard-focusable region, so a wide table never
/// widens the page on a phone.
public enum ScrollingTable {
    public static func wrap(_ table: HTML, label: String) -> HTML {
        "<div class=\"scroll\" role=\"region\" aria-label=\"\(label)\" tabindex=\"0\">\(table)</div>"
    }
}
