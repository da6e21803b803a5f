import Foundation
import Pipeline

extension StageExecution {
    /// A detached campaign's job: resolves the stage's key from the campaign's snapshot and the records
    /// its inputs' jobs left, returns at once if that key is already cached (another campaign or a local
    /// run computed it), else runs it as `execute(key:)` does, then publishes its outputs (figures/).
    public static func execute(stage: String, snapshot url: URL, store: CacheStore, registry: KindRegistry, executor: String) -> Outcome {
        let snapshot: PipelineSnapshot, spec: ActionSpec
        do {
            snapshot = try PipelineSnapshot.load(url)
            spec = try snapshot.spec(of: stage, store: store)
        } catch {
            WorkerReport.say("\(error)")
            return .failed
        }
        let forced = snapshot.forced.contains(stage)
        if !forced, let record = store.record(spec.key) {
            print("bnrepro exec: stage \(stage) is already cached (key \(spec.key)); nothing to compute")
            return publish(stage, snapshot: snapshot, store: store, record: record)
        }
        do { try store.writeSpec(spec) } catch {
            WorkerReport.say("\(error)")
            return .failed
        }
        print("bnrepro exec: stage \(stage) is key \(spec.key)")
        let outcome = execute(key: spec.key, store: store, registry: registry, executor: executor)
        guard outcome == .succeeded, let record = store.record(spec.key) else { return outcome }
        return publish(stage, snapshot: snapshot, store: store, record: record)
    }

    private static func publish(_ stage: String, snapshot: PipelineSnapshot, store: CacheStore, record: ActionRecord) -> Outcome {
        do {
            try store.markLatest(key: record.key, ofStage: stage)
            try StagePublisher(store: store, projectDirectory: URL(fileURLWithPath: snapshot.projectDirectory))
                .publish(stage: stage, to: snapshot.stage(stage)?.publish, record)
            return .succeeded
        } catch {
            WorkerReport.say("stage \(stage) is computed, but publishing it failed: \(error)")
            return .failed
        }
    }
}
