import Foundation

/// A stage's params checked against its kind's declaration.
enum ParameterCheck {
    /// The params with defaults filled in; unknown names, wrong types and missing required values are
    /// errors naming the stage and the field.
    static func resolve(_ params: JSONObject, kind: any StageKind, stage: String, file: String) throws -> JSONObject {
        let specs = kind.parameters
        let names = specs.map(\.name)
        var resolved = JSONObject()
        for key in params.keys where !names.contains(key) {
            throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(key)'",
                problem: "kind '\(kind.name)' has no parameter '\(key)'" + PipelineDocument.suggestion(key, names))
        }
        for spec in specs {
            guard let value = params[spec.name] ?? spec.defaultValue else {
                throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(spec.name)'",
                    problem: "missing (kind '\(kind.name)' requires it\(spec.help.isEmpty ? "" : ": \(spec.help)"))")
            }
            let texts = value.stringValue.map { [$0] } ?? value.arrayValue?.compactMap(\.stringValue) ?? []
            if let choices = spec.choices, let text = texts.first(where: { !choices.contains($0) }) {
                throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(spec.name)'",
                    problem: "'\(text)' is not one of \(choices.joined(separator: ", "))"
                        + (closestMatch(text, in: choices).map { "; did you mean '\($0)'?" } ?? ""))
            }
            guard spec.accepts(value) else {
                throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(spec.name)'",
                    problem: "expected \(spec.type.rawValue), got \(value.typeName) \(value.canonicalText)")
            }
            resolved[spec.name] = value
        }
        return resolved
    }
}
