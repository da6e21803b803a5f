import Foundation

/// One concrete stage after profile overrides and matrix expansion: what a key is computed from.
public struct ResolvedStage: Sendable {
    public let name: String
    /// The pipeline.json entry it came from (`train` for `train@bn=true,lr=0.1`).
    public let group: String
    public let kind: any StageKind
    public let params: JSONObject
    public let deps: [String]
    public let publish: String?
    public let description: String?
    /// What a cluster job of this stage asks for (pipeline.json `resources`, after overrides).
    public let resources: StageResources?
    /// The kind's version for these params: what the key says.
    public var version: Int { kind.version(for: params) }
}

/// The pipeline for one profile: stages in a topological order (declaration order where free).
public struct ResolvedPipeline: Sendable {
    public let document: PipelineDocument
    public let profile: String
    public let stages: [ResolvedStage]
    private let index: [String: Int]

    public init(document: PipelineDocument, profile: String? = nil, overrides: [(path: String, value: JSONValue)] = [],
                registry: KindRegistry) throws {
        self.document = document
        let profile = profile ?? document.defaultProfile
        self.profile = profile
        var raw = try Self.fillFigureKind(document.stages, registry: registry, file: document.file)
        var defaults = document.defaults
        if !document.profileNames.isEmpty || profile != document.defaultProfile {
            guard let profileOverrides = document.profiles[profile] else {
                throw PipelineError.unknownProfile(name: profile, known: document.profileNames)
            }
            try Overrides.apply(profileOverrides, to: &raw, defaults: &defaults, origin: "profile '\(profile)'",
                                directory: document.directory)
        }
        try Overrides.apply(overrides, to: &raw, defaults: &defaults, origin: "--set", directory: document.directory)
        let expanded = try MatrixExpansion.expand(raw, defaults: defaults, file: document.file, registry: registry)
        let ordered = try TopologicalOrder.sort(expanded)
        let kinds = Dictionary(uniqueKeysWithValues: ordered.map { ($0.name, $0.kind.name) })
        for stage in ordered {
            try stage.kind.validate(stage: stage.name, params: stage.params, dependencyKinds: stage.deps.compactMap { kinds[$0] })
        }
        stages = ordered
        index = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.name, $0) })
    }

    public func stage(_ name: String) -> ResolvedStage? { index[name].map { stages[$0] } }

    /// The stages of the `figures` map get the registry's figure-drawing kind and its params for their figure.
    private static func fillFigureKind(_ stages: [JSONObject], registry: KindRegistry, file: String) throws -> [JSONObject] {
        let figureKind = registry.figureKind
        return try stages.map { stage in
            guard stage["kind"] == .string(PipelineDocument.figureKindSlot) else { return stage }
            let name = stage["name"]?.stringValue ?? ""
            guard let kind = figureKind else {
                throw PipelineError.invalidField(file: file, location: "field 'figures.\(name)'",
                                                 problem: "this program registers no kind that draws figures")
            }
            var filled = stage
            filled["kind"] = .string(kind.name)
            var params = kind.params(forFigure: name)
            for (key, value) in stage["params"]?.objectValue?.pairs ?? [] { params[key] = value }
            filled["params"] = .object(params)
            return filled
        }
    }

    /// The stages that draw a figure of the `figures` map, in the map's order.
    public var figureStages: [ResolvedStage] {
        document.stages.filter { $0["kind"] == .string(PipelineDocument.figureKindSlot) }.compactMap { $0["name"]?.stringValue }.compactMap(stage)
    }

    /// Stages named by `targets` (a stage, or a matrix group such as `train`) and everything they need.
    public func closure(of targets: [String]) throws -> [ResolvedStage] {
        if targets.isEmpty { return stages }
        var wanted = Set<String>()
        var stack: [String] = []
        for target in targets {
            let members = try select(target)
            stack.append(contentsOf: members.map(\.name))
        }
        while let name = stack.popLast() {
            guard wanted.insert(name).inserted, let s = stage(name) else { continue }
            stack.append(contentsOf: s.deps)
        }
        return stages.filter { wanted.contains($0.name) }
    }

    /// What `--force` recomputes: the targets themselves (every stage without targets), not what they need.
    public func forcedStages(targets: [String]) throws -> Set<String> {
        Set(targets.isEmpty ? stages.map(\.name) : try targets.flatMap { try select($0) }.map(\.name))
    }

    /// A stage by exact name, or every member of a matrix group.
    public func select(_ target: String) throws -> [ResolvedStage] {
        if let s = stage(target) { return [s] }
        let members = stages.filter { $0.group == target }
        if !members.isEmpty { return members }
        let names = stages.map(\.name) + Array(Set(stages.map(\.group)))
        throw PipelineError.unknownStage(name: target, suggestion: closestMatch(target, in: names))
    }
}
