import Foundation

/// Turns raw stage objects into resolved stages: one per matrix combination, params checked against
/// the kind's declaration (defaults filled in), deps expanded to concrete stage names.
enum MatrixExpansion {
    /// The most stages a pipeline (or one matrix) may expand to. The paper's pipeline has about 60; a
    /// matrix of ten axes of ten values would be 10^10 stages and exhaust memory while being expanded.
    static let maxStages = 10_000

    static func expand(_ raw: [JSONObject], defaults: JSONObject = JSONObject(), file: String,
                       registry: KindRegistry) throws -> [ResolvedStage] {
        try checkSize(raw, file: file)
        var groups: [String: [String]] = [:]
        var pending: [(stage: JSONObject, name: String, group: String, kind: any StageKind, params: JSONObject)] = []
        var names = Set<String>()
        for stage in raw {
            let group = stage["name"]?.stringValue ?? ""
            guard let kindName = stage["kind"]?.stringValue else {
                throw PipelineError.invalidField(file: file, location: "stage '\(group)', field 'kind'", problem: "expected a string")
            }
            guard let kind = registry.kind(named: kindName) else {
                throw PipelineError.unknownKind(stage: group, kind: kindName, suggestion: closestMatch(kindName, in: registry.names))
            }
            guard let baseParams = (stage["params"] ?? .object(JSONObject())).objectValue else {
                throw PipelineError.invalidField(file: file, location: "stage '\(group)', field 'params'", problem: "expected an object")
            }
            // A typed kind reads its specs off its declaration: once per pipeline.json stage, not per combination.
            let specs = kind.parameters, parameterNames = Set(specs.map(\.name))
            var withDefaults = baseParams
            for (key, value) in defaults.pairs where withDefaults[key] == nil && parameterNames.contains(key) {
                withDefaults[key] = value
            }
            let labelled = labelledSettings(stage["matrix"])
            let axes = Set(stage["matrix"]?.objectValue?.keys ?? [])
            for combination in try combinations(stage["matrix"], stage: group, file: file) {
                var params = withDefaults
                var label: [String] = []
                for (key, value) in combination {
                    if case .object(let settings) = value {
                        // A settings axis (zipped, not crossed): its params are set together and the name
                        // says the ones that tell its entries apart, e.g. {"bn": false, "lr": 0.1} → "nobn,lr=0.1".
                        // A key naming another axis is that axis's values for this entry, not a param.
                        for (k, v) in settings.pairs where !axes.contains(k) {
                            params[k] = v
                            if labelled[key]?.contains(k) ?? true { label.append(settingLabel(k, v)) }
                        }
                    } else {
                        params[key] = value
                        label.append("\(key)=\(labelText(value))")
                    }
                }
                let name = label.isEmpty ? group : "\(group)@\(label.joined(separator: ","))"
                guard PipelineDocument.isSafeName(name) else { throw PipelineError.invalidName(file: file, name: name) }
                guard names.insert(name).inserted else { throw PipelineError.duplicateStage(file: file, name: name) }
                let resolved = try ParameterCheck.resolve(params, specs: specs, kind: kind.name, stage: name, file: file)
                groups[group, default: []].append(name)
                pending.append((stage, name, group, kind, resolved))
            }
        }
        return try pending.map { entry in
            var deps: [String] = []
            for dep in entry.stage["deps"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                if let members = groups[dep] {
                    deps.append(contentsOf: members)
                } else if names.contains(dep) {
                    deps.append(dep)
                } else {
                    let known = Array(groups.keys) + pending.map(\.name)
                    throw PipelineError.unknownDependency(stage: entry.group, dependency: dep, suggestion: closestMatch(dep, in: known))
                }
            }
            return ResolvedStage(name: entry.name, group: entry.group, kind: entry.kind, params: entry.params,
                                 deps: deps, publish: entry.stage["publish"]?.stringValue,
                                 description: entry.stage["description"]?.stringValue,
                                 resources: try entry.stage["resources"].map { try StageResources.parse($0, stage: entry.group, file: file) })
        }
    }

    /// Per settings axis, the keys whose values differ between its entries (all keys of a lone entry):
    /// what a stage's name needs to say, and no more (`train@bn,lr=0.1`, not every epoch count).
    static func labelledSettings(_ matrix: JSONValue?) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        let axes = Set(matrix?.objectValue?.keys ?? [])
        for (axis, values) in matrix?.objectValue?.pairs ?? [] {
            let entries = values.arrayValue?.compactMap(\.objectValue) ?? []
            guard !entries.isEmpty else { continue }
            let keys = Set(entries.flatMap(\.keys)).subtracting(axes)
            let varying = keys.filter { k in Set(entries.map { $0[k]?.canonicalText ?? "" }).count > 1 }
            result[axis] = entries.count == 1 ? keys : varying
        }
        return result
    }

    /// A boolean setting is its name or "no" + its name; others are name=value.
    static func settingLabel(_ key: String, _ value: JSONValue) -> String {
        if case .bool(let b) = value { return b ? key : "no\(key)" }
        return "\(key)=\(labelText(value))"
    }

    static func labelText(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return value.canonicalText
    }

    /// Counts the stages from the product of each matrix's axis lengths, before any is expanded: a
    /// matrix, or the whole pipeline, beyond `maxStages` is an error naming the stage and its axes.
    static func checkSize(_ raw: [JSONObject], file: String) throws {
        var total = 0
        for stage in raw {
            let group = stage["name"]?.stringValue ?? ""
            var count = 1
            var lengths: [String] = []
            let matrix = stage["matrix"]?.objectValue?.pairs ?? []
            for (key, values) in matrix {
                // An entry that replaces this axis's values may make it longer: count the longest.
                let replacements = matrix.flatMap { $0.value.arrayValue ?? [] }.compactMap { $0.objectValue?[key]?.arrayValue?.count }
                let length = ([values.arrayValue?.count ?? 1] + replacements).max() ?? 1
                lengths.append("\(key): \(length)")
                let (product, overflow) = count.multipliedReportingOverflow(by: length)
                count = overflow ? Int.max : product
            }
            if count > maxStages {
                let size = count == Int.max ? "more than \(Int.max)" : "\(count)"
                throw PipelineError.invalidField(file: file, location: "stage '\(group)', field 'matrix'",
                    problem: "expands to \(size) stages (\(lengths.joined(separator: " × "))), more than the limit of \(maxStages)")
            }
            total += count
            if total > maxStages {
                throw PipelineError.invalidField(file: file, location: "stage '\(group)'",
                    problem: "the pipeline expands to more than \(maxStages) stages by this stage, the limit")
            }
        }
    }

    /// The axes crossed in their order, except that a settings entry holding an axis's name gives that
    /// axis's values for the combinations it is in: `{"bn": false, "lr": 0.1, "seed": [0, 1, 2, 3, 4, 5]}`
    /// runs more seeds of one entry than the `seed` axis gives the others. Such an axis comes after the
    /// entry's, so its values are known when it is crossed.
    private static func combinations(_ matrix: JSONValue?, stage: String, file: String) throws -> [[(String, JSONValue)]] {
        guard let matrix = matrix?.objectValue, !matrix.isEmpty else { return [[]] }
        var result: [[(String, JSONValue)]] = [[]]
        var crossed = Set<String>()
        for (key, values) in matrix.pairs {
            let location = "stage '\(stage)', field 'matrix.\(key)'"
            guard let values = values.arrayValue, !values.isEmpty else {
                throw PipelineError.invalidField(file: file, location: location, problem: "expected a non-empty array of values")
            }
            for entry in values {
                for earlier in entry.objectValue?.keys ?? [] where crossed.contains(earlier) {
                    throw PipelineError.invalidField(file: file, location: location,
                        problem: "an entry gives values of the axis '\(earlier)', which comes before it; list '\(earlier)' after '\(key)'")
                }
            }
            result = try result.flatMap { prefix in
                let replaced = prefix.compactMap { $0.1.objectValue?[key] }.last
                guard let replaced else { return values.map { prefix + [(key, $0)] } }
                guard let own = replaced.arrayValue, !own.isEmpty else {
                    throw PipelineError.invalidField(file: file, location: location,
                        problem: "an entry's '\(key)' replaces the axis's values, so it must be a non-empty array")
                }
                return own.map { prefix + [(key, $0)] }
            }
            crossed.insert(key)
        }
        return result
    }
}
