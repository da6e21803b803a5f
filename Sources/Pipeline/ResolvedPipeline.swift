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
        var raw = document.stages
        if !document.profileNames.isEmpty || profile != document.defaultProfile {
            guard let profileOverrides = document.profiles[profile] else {
                throw PipelineError.unknownProfile(name: profile, known: document.profileNames)
            }
            try Overrides.apply(profileOverrides, to: &raw, origin: "profile '\(profile)'")
        }
        try Overrides.apply(overrides, to: &raw, origin: "--set")
        let expanded = try MatrixExpansion.expand(raw, file: document.file, registry: registry)
        let ordered = try TopologicalOrder.sort(expanded)
        stages = ordered
        index = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.name, $0) })
    }

    public func stage(_ name: String) -> ResolvedStage? { index[name].map { stages[$0] } }

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

    /// A stage by exact name, or every member of a matrix group.
    public func select(_ target: String) throws -> [ResolvedStage] {
        if let s = stage(target) { return [s] }
        let members = stages.filter { $0.group == target }
        if !members.isEmpty { return members }
        let names = stages.map(\.name) + Array(Set(stages.map(\.group)))
        throw PipelineError.unknownStage(name: target, suggestion: closestMatch(target, in: names))
    }

    public func dependents(of name: String) -> [ResolvedStage] {
        stages.filter { $0.deps.contains(name) }
    }
}

enum TopologicalOrder {
    /// Kahn's algorithm, taking the earliest-declared ready stage first; on a cycle, names one.
    static func sort(_ stages: [ResolvedStage]) throws -> [ResolvedStage] {
        let position = Dictionary(uniqueKeysWithValues: stages.enumerated().map { ($1.name, $0) })
        let remaining = stages.map { Set($0.deps) }
        var done = [Bool](repeating: false, count: stages.count)
        var order: [ResolvedStage] = []
        var finished = Set<String>()
        while order.count < stages.count {
            guard let next = stages.indices.first(where: { !done[$0] && remaining[$0].isSubset(of: finished) }) else {
                throw PipelineError.cycle(findCycle(stages, position: position, done: done))
            }
            done[next] = true
            finished.insert(stages[next].name)
            order.append(stages[next])
        }
        return order
    }

    private static func findCycle(_ stages: [ResolvedStage], position: [String: Int], done: [Bool]) -> [String] {
        // Walk from an unfinished stage along unfinished deps until a stage repeats.
        guard var current = stages.indices.first(where: { !done[$0] }) else { return [] }
        var path: [Int] = []
        var seenAt: [Int: Int] = [:]
        while seenAt[current] == nil {
            seenAt[current] = path.count
            path.append(current)
            guard let next = stages[current].deps.compactMap({ position[$0] }).first(where: { !done[$0] }) else { break }
            current = next
        }
        let start = seenAt[current] ?? 0
        return path[start...].map { stages[$0].name }.reversed()
    }
}
