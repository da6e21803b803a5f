import Foundation

/// A fragment of HTML. Interpolating a `String` escapes it; interpolating an `HTML` inserts it as is.
/// Every piece of text from the cache (stage names, claims, params, errors) reaches the page through
/// here, so escaping happens in this one place and cannot be forgotten at a call site.
public struct HTML: ExpressibleByStringInterpolation, CustomStringConvertible, Sendable, Equatable {
    public private(set) var markup: String

    public init(stringLiteral value: String) { markup = value }
    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }
    /// Markup produced by a trusted generator (Graphviz's SVG, our own CSS and script).
    public init(trusted markup: String) { self.markup = markup }

    public var description: String { markup }

    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""
        public init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { markup += literal }
        public mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }
        public mutating func appendInterpolation(_ html: HTML) { markup += html.markup }
        public mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { markup += part.markup } }
        public mutating func appendInterpolation(_ number: Int) { markup += String(number) }
    }

    /// Escapes the five characters that matter in text and in double- or single-quoted attributes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// A `data:` URI: what lets one file carry its figures and downloads.
    public static func dataURI(_ data: Data, mediaType: String) -> String {
        "data:\(mediaType);base64,\(data.base64EncodedString())"
    }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(trusted: a.markup + b.markup) }
}

extension Array where Element == HTML {
    public func joined(separator: HTML = "") -> HTML {
        HTML(trusted: map(\.markup).joined(separator: separator.markup))
    }
}
