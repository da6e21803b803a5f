import Foundation

/// A stage's params checked against its kind's declaration.
enum ParameterCheck {
    /// The params with defaults filled in; unknown names, wrong types and missing required values are
    /// errors naming the stage and the field.
    static func resolve(_ params: JSONObject, specs: [ParameterSpec], kind: String, stage: String, file: String) throws -> JSONObject {
        let names = specs.map(\.name)
        var resolved = JSONObject()
        for key in params.keys where !names.contains(key) {
            throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(key)'",
                problem: "kind '\(kind)' has no parameter '\(key)'" + PipelineDocument.suggestion(key, names))
        }
        for spec in specs {
            guard let value = params[spec.name] ?? spec.defaultValue else {
                throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(spec.name)'",
                    problem: "missing (kind '\(kind)' requires it\(spec.help.isEmpty ? "" : ": \(spec.help)"))")
            }
            if let problem = spec.choiceProblem(value) {
                throw PipelineError.invalidField(file: file, location: "stage '\(stage)', field 'params.\(spec.name)'", problem: problem)
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
