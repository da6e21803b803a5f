import Foundation

/// What differs between two figures: the size, else how many pixels differ and by how much at most in
/// one channel; when no pixel differs, which text chunks (provenance) do.
public enum PixelDifference {
    public static func describe(before: Data, after: Data) -> [String] {
        let old: PNGImage, new: PNGImage
        do { old = try PNGImage(decoding: [UInt8](before)); new = try PNGImage(decoding: [UInt8](after)) } catch {
            return ["\(error)"]
        }
        guard old.width == new.width, old.height == new.height else {
            return ["size \(old.width)×\(old.height) → \(new.width)×\(new.height) pixels"]
        }
        var differing = 0, largest = 0
        for p in 0..<(old.width * old.height) {
            var pixelDiffers = false
            for c in 0..<4 {
                let d = abs(Int(old.rgba[4 * p + c]) - Int(new.rgba[4 * p + c]))
                if d > 0 { pixelDiffers = true; largest = max(largest, d) }
            }
            if pixelDiffers { differing += 1 }
        }
        let total = old.width * old.height
        var lines: [String] = []
        if differing > 0 {
            lines.append(String(format: "%d of %d pixels differ (%.3g %%), largest channel difference %d of 255",
                                differing, total, 100 * Double(differing) / Double(max(total, 1)), largest))
        } else {
            lines.append("pixels identical")
        }
        let before = Dictionary(old.text.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.text.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        for key in (old.text.map(\.key) + new.text.map(\.key).filter { before[$0] == nil }) where before[key] != after[key] {
            lines.append("text chunk '\(key)': \(shown(before[key])) → \(shown(after[key]))")
        }
        if differing == 0 && lines.count == 1 { lines[0] += "; the encoding differs" }
        return lines
    }

    static func shown(_ value: [UInt8]?) -> String {
        guard let value else { return "absent" }
        let text = String(decoding: value, as: UTF8.self)
        return clipped(text, 48)
    }
}
