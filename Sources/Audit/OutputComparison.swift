import Foundation
import Pipeline

/// What differs inside one output whose bytes differ, by its format: arrays by value, JSON by field,
/// figures by pixel, text by line; anything else by size.
public enum OutputComparison {
    public static func details(name: String, cached: Data, recomputed: Data) -> [String] {
        switch (name as NSString).pathExtension.lowercased() {
        case "npy": return ArrayDifference.npy(before: cached, after: recomputed)
        case "safetensors": return ArrayDifference.safetensors(before: cached, after: recomputed)
        case "png": return PixelDifference.describe(before: cached, after: recomputed)
        case "json":
            guard let a = try? JSONParser.parse(cached), let b = try? JSONParser.parse(recomputed) else {
                return ["not JSON on both sides"] + lines(cached, recomputed)
            }
            return JSONDifference.describe(before: a, after: b)
        default: return lines(cached, recomputed)
        }
    }

    /// Text (CSV, Markdown, SVG, logs) line by line: how many lines differ and the first that does;
    /// bytes that are not UTF-8 only by size.
    static func lines(_ cached: Data, _ recomputed: Data) -> [String] {
        guard let a = String(data: cached, encoding: .utf8), let b = String(data: recomputed, encoding: .utf8) else {
            return ["binary contents differ (\(cached.count) → \(recomputed.count) bytes)"]
        }
        let old = a.split(separator: "\n", omittingEmptySubsequences: false), new = b.split(separator: "\n", omittingEmptySubsequences: false)
        let differing = (0..<max(old.count, new.count)).filter { i in (i < old.count ? old[i] : nil) != (i < new.count ? new[i] : nil) }
        guard let first = differing.first else { return ["same text, different bytes"] }
        func line(_ lines: [Substring], _ i: Int) -> String {
            guard i < lines.count else { return "absent" }
            let text = String(lines[i])
            return "'" + clipped(text, 60) + "'"
        }
        var result = ["\(differing.count) of \(max(old.count, new.count)) lines differ; the first, line \(first + 1): "
                      + "\(line(old, first)) → \(line(new, first))"]
        if old.count != new.count { result.append("\(old.count) → \(new.count) lines") }
        return result
    }
}
