import Foundation
import Pipeline

/// CSV as RFC 4180 writes it: a field with a comma, quote or line break is quoted, quotes doubled.
public enum CSVText {
    public static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    public static func rows(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// Every leaf of a JSON document as one `path,value` row (`histograms.bn.counts[3],7`): the numbers of
    /// a result file in a form any spreadsheet opens, without knowing its schema.
    public static func flattened(_ value: JSONValue) -> [[String]] {
        var rows: [[String]] = [["path", "value"]]
        func walk(_ value: JSONValue, _ path: String) {
            switch value {
            case .object(let object): for (key, child) in object.pairs { walk(child, path.isEmpty ? key : "\(path).\(key)") }
            case .array(let items): for (i, child) in items.enumerated() { walk(child, "\(path)[\(i)]") }
            case .string(let s): rows.append([path, s])
            case .number(let d): rows.append([path, JSONValue.formatNumber(d)])
            case .bool(let b): rows.append([path, b ? "true" : "false"])
            case .null: rows.append([path, ""])
            }
        }
        walk(value, "")
        return rows
    }

    /// Splits CSV text into rows (quoted fields may hold commas, quotes and line breaks).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false, previousQuote = false
        for ch in text {
            if quoted {
                if ch == "\"" { quoted = false; previousQuote = true } else { field.append(ch) }
                continue
            }
            switch ch {
            case "\"":
                if previousQuote { field.append("\"") }
                quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n":
                row.append(field); rows.append(row); row = []; field = ""
            default: field.append(ch)
            }
            previousQuote = false
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
