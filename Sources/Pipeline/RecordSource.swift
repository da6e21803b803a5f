import Foundation

/// Somewhere other than this cache that may already hold a stage's result: a remote cache that
/// `run --pull` asks before computing a stage. The runner knows nothing of how it is reached.
public protocol RecordSource: Sendable {
    /// The record of `spec.key` if the source has a usable one, stored into `store` (as a pulled record,
    /// with the objects it names only if `withObjects`); nil when it has none, or none that can be used
    /// (the source reports why).
    func fetchRecord(for spec: ActionSpec, withObjects: Bool, into store: CacheStore) -> ActionRecord?
    /// Brings the objects of a pulled record into `store`, each checked against its digest; false when
    /// one could not be had.
    func fetchObjects(of record: ActionRecord, into store: CacheStore) -> Bool
}

extension ResolvedPipeline {
    /// The action for a stage whose dependencies' outputs are all known, or nil while one is not: what a
    /// run computes, and what a pull looks up on a remote.
    public func actionSpec(for stage: ResolvedStage, outputs: [String: [String: OutputRef]]) -> ActionSpec? {
        var inputs: [InputRef] = []
        for dep in stage.deps {
            guard let depOutputs = outputs[dep], let depStage = self.stage(dep) else { return nil }
            inputs.append(InputRef(stage: dep, kind: depStage.kind.name, params: depStage.params, outputs: depOutputs))
        }
        return ActionSpec(stage: stage, inputs: inputs)
    }
}
