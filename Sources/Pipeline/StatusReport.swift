import Foundation

/// Why each stage is or is not up to date, in words: which param changed from what to what, which
/// input changed, or which dependency has to run first.
public struct StatusReport: Sendable {
    public enum State: Equatable, Sendable {
        case upToDate(key: String)
        case neverRun
        case stale(reasons: [String])
        /// Its record is there but cannot be used (`RecordRead.problem` says why); run recomputes it.
        case unreadable(key: String, reason: String)
    }

    public let pipeline: ResolvedPipeline
    public let store: CacheStore

    public init(pipeline: ResolvedPipeline, store: CacheStore) {
        self.pipeline = pipeline
        self.store = store
    }

    /// Every stage in topological order with its state.
    public func states() -> [(stage: ResolvedStage, state: State)] {
        var outputs: [String: [String: OutputRef]] = [:]
        var result: [(ResolvedStage, State)] = []
        let runner = Runner(pipeline: pipeline, store: store, executor: NoExecutor(), console: Console(style: .silent),
                            projectDirectory: store.root)
        for stage in pipeline.stages {
            let spec = runner.spec(for: stage, outputs: outputs)
            if let spec, let record = store.record(spec.key) {
                outputs[stage.name] = record.outputs
                result.append((stage, .upToDate(key: spec.key)))
            } else if let spec, let problem = store.recordState(spec.key).problem {
                result.append((stage, .unreadable(key: spec.key, reason: problem)))
            } else {
                let reasons = reasons(stage, outputs: outputs)
                result.append((stage, reasons.isEmpty ? .neverRun : .stale(reasons: reasons)))
            }
        }
        return result
    }

    /// One line for `run --dry-run`.
    public func explain(_ stage: ResolvedStage, outputs: [String: [String: OutputRef]]) -> String {
        let r = reasons(stage, outputs: outputs)
        return r.isEmpty ? "never run" : r.joined(separator: "; ")
    }

    /// Compares the stage as it is now with its last successful record.
    func reasons(_ stage: ResolvedStage, outputs: [String: [String: OutputRef]]) -> [String] {
        var reasons: [String] = []
        let waiting = stage.deps.filter { outputs[$0] == nil }
        guard let lastKey = store.lastKey(ofStage: stage.name), let last = store.anyRecord(lastKey) else {
            return waiting.isEmpty ? [] : ["never run; needs \(waiting.joined(separator: ", ")) first"]
        }
        if last.kind != stage.kind.name { reasons.append("kind changed from \(last.kind) to \(stage.kind.name)") }
        else if last.version != stage.version {
            reasons.append("kind \(stage.kind.name) changed from version \(last.version) to \(stage.version)")
        }
        reasons += StatusReport.paramChanges(from: last.params, to: stage.params)
        let lastInputs = Dictionary(uniqueKeysWithValues: last.inputs.map { ($0.stage, $0.outputs) })
        for dep in stage.deps {
            if let now = outputs[dep] {
                if lastInputs[dep] == nil { reasons.append("new dependency \(dep)") }
                else if lastInputs[dep] != now { reasons.append("input \(dep) changed") }
            } else {
                reasons.append("needs \(dep), which is not up to date")
            }
        }
        for dep in lastInputs.keys.sorted() where !stage.deps.contains(dep) { reasons.append("dependency \(dep) removed") }
        if reasons.isEmpty, store.pulledRecordWithoutObjects(lastKey) != nil {
            reasons.append("pulled as a record only: its outputs are on the remote (`run` takes it as it is; `pull \(stage.name)` fetches them)")
        } else if reasons.isEmpty {
            reasons.append(store.anyRecord(lastKey) != nil && store.record(lastKey) == nil
                           ? "cached outputs are missing or were quarantined" : "its last result is from another configuration")
        }
        return reasons
    }

    static func paramChanges(from old: JSONObject, to new: JSONObject, prefix: String = "") -> [String] {
        var changes: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            let path = prefix + key
            switch (old[key], new[key]) {
            case (nil, let v?): changes.append("param \(path) added (\(v.canonicalText))")
            case (let v?, nil): changes.append("param \(path) removed (was \(v.canonicalText))")
            case (.object(let a)?, .object(let b)?): changes += paramChanges(from: a, to: b, prefix: path + ".")
            case (let a?, let b?) where a.canonicalText != b.canonicalText:
                changes.append("param \(path) changed from \(a.canonicalText) to \(b.canonicalText)")
            default: break
            }
        }
        return changes
    }
}

/// An executor that runs nothing: for planning-only uses of `Runner`.
public struct NoExecutor: Executor {
    public let name = "none"
    public init() {}
    public func execute(_ spec: ActionSpec, store: CacheStore, progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome {
        .failed(reason: "planning only", logTail: "")
    }
}
