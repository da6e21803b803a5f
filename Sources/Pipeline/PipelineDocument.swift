import Foundation

/// `pipeline.json` as written: stages (some with a matrix), profiles and the default profile.
/// Validation here is about shape; kinds, params and deps are checked when resolving.
public struct PipelineDocument: Sendable {
    public let file: String
    /// The directory the file is in, which `publish` paths are relative to; nil when parsed from bytes.
    public let directory: URL?
    public let defaultProfile: String
    /// Profile name → ordered overrides (dotted path → value).
    public let profiles: [String: [(path: String, value: JSONValue)]]
    public let profileNames: [String]
    /// Raw stage objects in declaration order, validated for shape; the `figures` list comes last,
    /// one stage of kind `figure` each.
    public let stages: [JSONObject]
    /// Params every stage whose kind declares them gets unless it sets its own (the set-up choices, once).
    public let defaults: JSONObject

    static let topLevelFields = ["description", "defaultProfile", "defaults", "profiles", "stages", "figures"]
    static let stageFields = ["name", "kind", "description", "params", "deps", "matrix", "publish", "resources"]

    /// The largest pipeline file read. Ours is a few kilobytes; a larger one is a mistake (a data file
    /// passed as --pipeline) and is refused before it is read, not after it fills memory.
    public static let maxFileBytes = 10 << 20

    public static func load(_ url: URL) throws -> PipelineDocument {
        let data = try readBounded(url)
        return try parse(data, file: url.lastPathComponent, directory: url.deletingLastPathComponent())
    }

    /// The file's bytes, refused by size first (from stat) and then by what a bounded read finds, for a
    /// file that grows meanwhile or has no size (a pipe, /dev/zero).
    private static func readBounded(_ url: URL) throws -> Data {
        let tooLarge = { (size: String) in
            PipelineError.unreadable(file: url.path, reason: "it is \(size); a pipeline file may be at most 10 MB (\(maxFileBytes) bytes)")
        }
        if let size = FileIO.size(url), size > maxFileBytes { throw tooLarge("\(size) bytes") }
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
            if data.count > maxFileBytes { throw tooLarge("more than \(maxFileBytes) bytes") }
            return data
        } catch let error as PipelineError { throw error } catch {
            throw PipelineError.unreadable(file: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    public static func parse(_ data: Data, file: String = "pipeline.json", directory: URL? = nil) throws -> PipelineDocument {
        let root: JSONValue
        do { root = try JSONParser.parse(data, file: file) } catch let e as JSONSyntaxError {
            throw PipelineError.invalidJSON(e)
        }
        guard case .object(let top) = root else {
            throw PipelineError.invalidField(file: file, location: "top level", problem: "expected an object, got \(root.typeName)")
        }
        for key in top.keys where !topLevelFields.contains(key) {
            throw PipelineError.invalidField(file: file, location: "field '\(key)'",
                problem: "unknown field" + suggestion(key, topLevelFields))
        }
        guard case .array(let stageValues)? = top["stages"] else {
            throw PipelineError.invalidField(file: file, location: "field 'stages'",
                problem: top["stages"] == nil ? "missing" : "expected an array of stages")
        }
        var defaults = JSONObject()
        if let d = top["defaults"] {
            guard case .object(let o) = d else {
                throw PipelineError.invalidField(file: file, location: "field 'defaults'", problem: "expected an object of params, got \(d.typeName)")
            }
            defaults = o
        }
        var stages: [JSONObject] = []
        var seen = Set<String>()
        let figureValues = try figureStages(top["figures"], file: file)
        let figureNames = figureValues.compactMap { $0["name"]?.stringValue }
        for (i, value) in (stageValues.map { expandFigureDeps($0, figureNames) } + figureValues).enumerated() {
            let stage = try validateStage(value, index: i, file: file, directory: directory)
            let name = stage["name"]?.stringValue ?? ""
            guard seen.insert(name).inserted else { throw PipelineError.duplicateStage(file: file, name: name) }
            stages.append(stage)
        }
        var profiles: [String: [(String, JSONValue)]] = [:]
        var profileNames: [String] = []
        if let p = top["profiles"] {
            guard case .object(let obj) = p else {
                throw PipelineError.invalidField(file: file, location: "field 'profiles'", problem: "expected an object")
            }
            for (name, overrides) in obj.pairs {
                guard case .object(let o) = overrides else {
                    throw PipelineError.invalidField(file: file, location: "profile '\(name)'",
                        problem: "expected an object of \"stage.field.path\": value overrides")
                }
                profiles[name] = o.pairs.map { ($0.key, $0.value) }
                profileNames.append(name)
            }
        }
        let defaultProfile: String
        switch top["defaultProfile"] {
        case nil: defaultProfile = profileNames.first ?? "default"
        case .string(let s)?: defaultProfile = s
        case let other?: throw PipelineError.invalidField(file: file, location: "field 'defaultProfile'",
                                                          problem: "expected a string, got \(other.typeName)")
        }
        if !profileNames.isEmpty, profiles[defaultProfile] == nil {
            throw PipelineError.invalidField(file: file, location: "field 'defaultProfile'",
                problem: "names '\(defaultProfile)', which is not among the profiles (\(profileNames.joined(separator: ", ")))")
        }
        return PipelineDocument(file: file, directory: directory, defaultProfile: defaultProfile, profiles: profiles,
                                profileNames: profileNames, stages: stages, defaults: defaults)
    }

    /// `"figures": {"fig3": ["relative-loss"], …}`: each entry is a stage of that name, of the kind the binary
    /// registers to draw figures (`FigureDrawingKind`, chosen when the pipeline is resolved), drawing the
    /// figure of the same id from its deps, published to figures/.
    private static func figureStages(_ value: JSONValue?, file: String) throws -> [JSONValue] {
        guard let value else { return [] }
        guard case .object(let figures) = value else {
            throw PipelineError.invalidField(file: file, location: "field 'figures'",
                problem: "expected an object of figure name → list of the stages it draws from, got \(value.typeName)")
        }
        return try figures.pairs.map { name, deps in
            guard let list = deps.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw PipelineError.invalidField(file: file, location: "field 'figures.\(name)'",
                    problem: "expected an array of stage names, got \(deps.typeName)")
            }
            return .object(JSONObject([("name", .string(name)), ("kind", .string(figureKindSlot)),
                                       ("deps", .array(list)), ("publish", "figures")]))
        }
    }

    /// The kind of a stage from the `figures` map until the registry names the kind that draws figures.
    public static let figureKindSlot = "@figure"

    /// The dependency `"@figures"` stands for every stage of the `figures` map, in its order: a stage that
    /// reads every figure (the claims table) needs no hand-kept list, and a new figure joins it.
    static let everyFigure = "@figures"

    private static func expandFigureDeps(_ stage: JSONValue, _ figures: [String]) -> JSONValue {
        guard var object = stage.objectValue, let deps = object["deps"]?.arrayValue,
              deps.contains(.string(everyFigure)) else { return stage }
        object["deps"] = .array(deps.flatMap { $0 == .string(everyFigure) ? figures.map { JSONValue.string($0) } : [$0] })
        return .object(object)
    }

    static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { s in
            (s.isASCII && (CharacterSet.alphanumerics.contains(s))) || "._-@=,+".unicodeScalars.contains(s)
        } && name != "." && name != ".."
    }

    private static func validateStage(_ value: JSONValue, index: Int, file: String, directory: URL?) throws -> JSONObject {
        guard case .object(let stage) = value else {
            throw PipelineError.invalidField(file: file, location: "stages[\(index)]", problem: "expected an object, got \(value.typeName)")
        }
        guard case .string(let name)? = stage["name"] else {
            throw PipelineError.invalidField(file: file, location: "stages[\(index)], field 'name'",
                problem: stage["name"] == nil ? "missing" : "expected a string")
        }
        guard isSafeName(name), !name.contains("@") else { throw PipelineError.invalidName(file: file, name: name) }
        let here = "stage '\(name)'"
        for key in stage.keys where !stageFields.contains(key) {
            throw PipelineError.invalidField(file: file, location: "\(here), field '\(key)'",
                problem: "unknown field" + suggestion(key, stageFields))
        }
        func expect(_ field: String, _ type: String, _ ok: (JSONValue) -> Bool) throws {
            if let v = stage[field], !ok(v) {
                throw PipelineError.invalidField(file: file, location: "\(here), field '\(field)'",
                    problem: "expected \(type), got \(v.typeName)")
            }
        }
        guard stage["kind"] != nil else {
            throw PipelineError.invalidField(file: file, location: "\(here), field 'kind'", problem: "missing")
        }
        try expect("kind", "a string") { $0.stringValue != nil }
        try expect("description", "a string") { $0.stringValue != nil }
        try expect("publish", "a string") { $0.stringValue != nil }
        try PublishPath.validate(stage["publish"], directory: directory) {
            PipelineError.invalidField(file: file, location: "\(here), field 'publish'", problem: $0)
        }
        try expect("params", "an object") { $0.objectValue != nil }
        try expect("deps", "an array of stage names") { $0.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false }
        try expect("matrix", "an object of non-empty arrays") { v in
            v.objectValue.map { $0.pairs.allSatisfy { !($0.value.arrayValue ?? []).isEmpty } } ?? false
        }
        // What a cluster job asks for (executor slurm); checked here so a typo fails before anything runs.
        if let resources = stage["resources"] { _ = try StageResources.parse(resources, stage: name, file: file) }
        if let matrix = stage["matrix"]?.objectValue {
            for key in matrix.keys where !isSafeName(key) || key.contains(",") || key.contains("=") {
                throw PipelineError.invalidField(file: file, location: "\(here), field 'matrix.\(key)'",
                    problem: "matrix parameter names may contain only letters, digits and ._-+")
            }
        }
        return stage
    }

    static func suggestion(_ word: String, _ candidates: [String]) -> String {
        closestMatch(word, in: candidates).map { "; did you mean '\($0)'?" } ?? "; allowed: \(candidates.joined(separator: ", "))"
    }
}
