import Foundation

/// Dotted-path overrides (`train.params.epochs = 2`) on raw stage objects. The first component is a
/// stage name; since names may contain dots, the longest stage name that prefixes the path wins.
/// `defaults.<param>` (or `defaults` with an object) changes the pipeline's defaults. An object given
/// for a whole `params` or `defaults` is merged into it, so one line can set several params.
public enum Overrides {
    /// `directory` is the project directory, for the check of a `publish` override (nil: lexical only).
    static func apply(_ overrides: [(path: String, value: JSONValue)], to stages: inout [JSONObject],
                      defaults: inout JSONObject, origin: String, directory: URL? = nil) throws {
        let names = stages.map { $0["name"]?.stringValue ?? "" }
        for (path, value) in overrides {
            if path == "defaults" || path.hasPrefix("defaults.") {
                let rest = path.split(separator: ".").dropFirst().map(String.init)
                var target = JSONValue.object(defaults)
                try set(&target, path: rest[...], value: value, fullPath: path)
                defaults = target.objectValue ?? defaults
                continue
            }
            guard let (i, rest) = locate(path, names: names) else {
                let head = String(path.split(separator: ".").first ?? "")
                throw PipelineError.badOverride(path: path,
                    problem: "\(origin): no stage named '\(head)'" + (closestMatch(head, in: names).map { "; did you mean '\($0)'?" } ?? ""))
            }
            guard let field = rest.first, ["params", "matrix", "deps", "kind", "publish", "resources"].contains(field) else {
                throw PipelineError.badOverride(path: path,
                    problem: "\(origin): expected <stage>.params.<name>, <stage>.matrix.<name>, <stage>.deps, <stage>.kind, <stage>.publish or <stage>.resources.<name>")
            }
            var stage = JSONValue.object(stages[i])
            try set(&stage, path: rest[...], value: value, fullPath: path)
            if let object = stage.objectValue { stages[i] = object }
            if field == "publish" {
                try PublishPath.validate(stages[i]["publish"], directory: directory) {
                    PipelineError.badOverride(path: path, problem: "\(origin): stage '\(names[i])', field 'publish': \($0)")
                }
            }
        }
    }

    private static func locate(_ path: String, names: [String]) -> (Int, [String])? {
        let best = names.enumerated()
            .filter { path.hasPrefix($0.element + ".") }
            .max { $0.element.count < $1.element.count }
        guard let best else { return nil }
        let rest = path.dropFirst(best.element.count + 1).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        return (best.offset, rest)
    }

    private static func set(_ target: inout JSONValue, path: ArraySlice<String>, value: JSONValue, fullPath: String) throws {
        guard let head = path.first else {
            if case .object(var merged) = target, case .object(let new) = value,
               fullPath == "defaults" || fullPath.hasSuffix(".params") {
                for (k, v) in new.pairs { merged[k] = v }
                target = .object(merged)
            } else {
                target = value
            }
            return
        }
        var object: JSONObject
        switch target {
        case .object(let o): object = o
        case .null: object = JSONObject()
        default:
            throw PipelineError.badOverride(path: fullPath, problem: "'\(head)' is inside a \(target.typeName), not an object")
        }
        var child = object[head] ?? .null
        try set(&child, path: path.dropFirst(), value: value, fullPath: fullPath)
        object[head] = child
        target = .object(object)
    }

    /// Parses `--set path=value`: the value is JSON when it parses as JSON, otherwise a plain string.
    public static func parseAssignment(_ text: String) throws -> (path: String, value: JSONValue) {
        guard let eq = text.firstIndex(of: "=") else {
            throw PipelineError.badOverride(path: text, problem: "expected path=value, e.g. train.params.epochs=2")
        }
        let path = String(text[..<eq]), raw = String(text[text.index(after: eq)...])
        let value = (try? JSONParser.parse(raw)) ?? .string(raw)
        return (path, value)
    }
}
