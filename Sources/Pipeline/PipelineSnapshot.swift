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

    /// The action of `name`: every stage it needs must have a record in `store` (its job ran first, or
    /// it was cached at submission).
    public func spec(of name: String, store: CacheStore) throws -> ActionSpec {
        guard stage(name) != nil else { throw CampaignError.unknownStage(name) }
        var outputs: [String: [String: OutputRef]] = [:]
        for s in closure(of: name) {
            var inputs: [InputRef] = []
            for dep in s.deps {
                guard let depStage = stage(dep), let depOutputs = outputs[dep] else { throw CampaignError.unknownStage(dep) }
                inputs.append(InputRef(stage: dep, kind: depStage.kind, params: depStage.params, outputs: depOutputs))
            }
            let spec = ActionSpec(stage: s.name, kind: s.kind, version: s.version, params: s.params, inputs: inputs)
            if s.name == name { return spec }
            guard let record = store.record(spec.key) else { throw CampaignError.inputMissing(stage: name, input: s.name, key: spec.key) }
            outputs[s.name] = record.outputs
        }
        throw CampaignError.unknownStage(name)
    }
}

public enum CampaignError: Error, CustomStringConvertible, Equatable {
    case unknownStage(String)
    case inputMissing(stage: String, input: String, key: String)
    case unreadable(path: String, reason: String)
    case unknownCampaign(id: String, known: [String])

    public var description: String {
        switch self {
        case .unknownStage(let name): return "the campaign's snapshot has no stage '\(name)'"
        case .inputMissing(let stage, let input, let key):
            return "stage '\(stage)' needs '\(input)' (key \(key.prefix(12))), which has no result in the cache: its job failed, was cancelled, or the cache was cleaned"
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .unknownCampaign(let id, let known):
            return "no campaign '\(id)' in this cache" + (known.isEmpty ? " (it has none)" : "; it has \(known.joined(separator: ", "))")
        }
    }
}
