// Cairo numbers SVG element ids (image930, surface5) from process-wide counters, so the same figure
// drawn twice in one process gives different bytes. Renaming every id in order of appearance makes
// the SVG a function of the figure alone.

enum SVGIds {
    static func canonical(_ bytes: [UInt8]) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        var renamed: [Substring: String] = [:]
        // First pass: ids in order of definition.
        var rest = text[...]
        while let r = rest.range(of: "id=\"") {
            let start = r.upperBound
            guard let end = rest[start...].firstIndex(of: "\"") else { break }
            let id = rest[start..<end]
            if renamed[id] == nil { renamed[id] = prefix(of: id) + String(renamed.count) }
            rest = rest[end...]
        }
        guard !renamed.isEmpty else { return bytes }
        // Second pass: rewrite definitions (id="x") and references ("#x" and url(#x)) exactly.
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var i = text.startIndex
        while i < text.endIndex {
            if let (open, close) = marker(text, at: i) {
                let start = text.index(i, offsetBy: open.count)
                if let end = text[start...].firstIndex(of: close), let new = renamed[text[start..<end]] {
                    out += open + new
                    i = end
                    continue
                }
            }
            out.append(text[i])
            i = text.index(after: i)
        }
        return Array(out.utf8)
    }

    /// Keep the kind of element readable in the new name: glyph, image, clip …
    static func prefix(of id: Substring) -> String {
        let letters = id.prefix { $0.isLetter }
        return (letters.isEmpty ? "id" : String(letters)) + "-"
    }

    static func marker(_ s: String, at i: String.Index) -> (String, Character)? {
        for (open, close) in [("id=\"", Character("\"")), ("\"#", Character("\"")), ("url(#", Character(")"))] where s[i...].hasPrefix(open) {
            return (open, close)
        }
        return nil
    }
}
