import Foundation
import Pipeline

extension PipelineSnapshot {
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
