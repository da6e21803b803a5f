import Foundation

/// One stage as a campaign's snapshot keeps it: everything its key is made of except its inputs'
/// outputs, which exist only once the jobs it waits for have run.
public struct SnapshotStage: Codable, Sendable, Equatable {
    public let name: String
    public let group: String
    public let kind: String
    public let version: Int
    public let params: JSONObject
    public let deps: [String]
    public let publish: String?

    init(_ stage: ResolvedStage) {
        name = stage.name
        group = stage.group
        kind = stage.kind.name
        version = stage.version
        params = stage.params
        deps = stage.deps
        publish = stage.publish
    }
}

/// The resolved pipeline as a detached campaign saw it when it was submitted: a job of the campaign
/// resolves its own stage key from it when it starts, by reading its inputs' records from the cache.
/// So a later edit of pipeline.json, or another profile, cannot change what a submitted job computes.
public struct PipelineSnapshot: Codable, Sendable {
    public let profile: String
    /// The stages the campaign's targets need, cached ones included, in topological order.
    public let stages: [SnapshotStage]
    /// Stages to compute even if their key is cached (`run --force`).
    public let forced: [String]
    /// Where `publish` directories are relative to, as in `Runner.projectDirectory`.
    public let projectDirectory: String

    public init(profile: String, stages: [ResolvedStage], forced: Set<String>, projectDirectory: URL) {
        self.profile = profile
        self.stages = stages.map(SnapshotStage.init)
        self.forced = stages.map(\.name).filter { forced.contains($0) }
        self.projectDirectory = projectDirectory.path
    }

    public func stage(_ name: String) -> SnapshotStage? { stages.first { $0.name == name } }

    /// `name` and every stage it needs, in topological order.
    public func closure(of name: String) -> [SnapshotStage] {
        var wanted = Set<String>(), stack = [name]
        let byName = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0) })
        while let next = stack.popLast() {
            guard wanted.insert(next).inserted, let s = byName[next] else { continue }
            stack.append(contentsOf: s.deps)
        }
        return stages.filter { wanted.contains($0.name) }
    }
}
