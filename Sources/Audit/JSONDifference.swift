import Foundation
import Pipeline

/// The fields that differ between two JSON documents, by path (`evaluations[3].testLoss`), with their
/// values before → after; a bounded number are listed, then how many more, then the largest numeric
/// difference over all of them.
public enum JSONDifference {
    public struct Change: Equatable, Sendable {
        public let path: String
        /// Nil when the field is absent on that side.
        public let before: JSONValue?
        public let after: JSONValue?
    }

    /// Every differing leaf. Objects are compared key by key, arrays of one length item by item; an
    /// array whose length changed is one change (its items no longer line up).
    public static func changes(_ before: JSONValue, _ after: JSONValue, path: String = "") -> [Change] {
        switch (before, after) {
        case (.object(let a), .object(let b)):
            return (a.keys + b.keys.filter { a[$0] == nil }).flatMap { key -> [Change] in
                let here = path.isEmpty ? key : path + "." + key
                switch (a[key], b[key]) {
                case (let x?, let y?): return changes(x, y, path: here)
                case (let x, let y): return [Change(path: here, before: x, after: y)]
                }
            }
        case (.array(let a), .array(let b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { i, pair in changes(pair.0, pair.1, path: path + "[\(i)]") }
        default:
            return before == after ? [] : [Change(path: path, before: before, after: after)]
        }
    }

    /// Lines for the audit table: at most `limit` changes, then a count of the rest and the largest
    /// numeric difference among all changes.
    public static func describe(before: JSONValue, after: JSONValue, limit: Int = 8) -> [String] {
        let all = changes(before, after)
        guard !all.isEmpty else { return ["same values, spelled differently"] }
        var lines = all.prefix(limit).map { change in
            "\(change.path.isEmpty ? "(the document)" : change.path): \(text(change.before)) → \(text(change.after))"
        }
        if all.count > limit { lines.append("… and \(all.count - limit) more field\(all.count - limit == 1 ? "" : "s") differ") }
        var numbers = ValueDifference()
        for change in all {
            if let a = change.before?.doubleValue, let b = change.after?.doubleValue { numbers.add(a, b, at: change.path) }
        }
        if numbers.differing > numbers.nonFinite, let at = numbers.largestAt {
            lines.append(String(format: "largest numeric difference %.3g (at %@), largest relative %.3g",
                                numbers.largestAbsolute, at.isEmpty ? "the document" : at, numbers.largestRelative))
        }
        return lines
    }

    static func text(_ value: JSONValue?) -> String {
        guard let value else { return "absent" }
        switch value {
        case .array(let items) where items.count > 4: return "[\(items.count) items]"
        case .object(let o) where o.count > 4: return "{\(o.count) fields}"
        default:
            return clipped(value.canonicalText, 48)
        }
    }
}
