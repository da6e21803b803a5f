import Foundation
import Pipeline

/// Audits one cached result: computes its stage again from the same inputs in a scratch cache
/// (`ScratchRecompute`), compares every output with the cached one and gives the verdict.
public struct StageAuditor: Sendable {
    public let store: CacheStore
    public let recompute: ScratchRecompute
    /// The project's commit now, kept in the audit.
    public let commit: String?
    /// The OpenMP thread count to recompute with; nil: the count the original ran with, so that a
    /// difference found is not the thread count's doing.
    public let threads: Int?
    /// A kind's tolerance for results computed on another CPU (`StageKind.crossCPUTolerance`), by kind name.
    public let tolerance: @Sendable (String) -> Double?

    public init(store: CacheStore, recompute: ScratchRecompute, commit: String?, threads: Int?,
                tolerance: @escaping @Sendable (String) -> Double? = { _ in nil }) {
        self.store = store
        self.recompute = recompute
        self.commit = commit
        self.threads = threads
        self.tolerance = tolerance
    }

    public func audit(_ record: ActionRecord, progress: @escaping @Sendable (StageProgress) -> Void = { _ in }) -> StageAudit {
        let started = Date()
        let threads = self.threads ?? record.threads ?? WorkerThreads.count()
        var environment = ["OMP_NUM_THREADS": String(threads)]
        // A figure stamps the commit it was made at into its PNG. The audit asks whether the same inputs
        // give the same result, so the recomputation carries the original's stamp; the commit the audit
        // ran at is kept in the audit itself.
        if let original = record.gitCommit { environment["BNREPRO_GIT_COMMIT"] = original }
        // The same engine plan as the original: a record from before plans ran with the default one.
        environment[EngineSetup.environmentVariable] = record.enginePlan ?? "default"
        func finding(_ verdict: StageAudit.Verdict, outputs: [StageAudit.Output] = [], error: String? = nil, threads ran: Int = threads,
                     cpu: String? = CPUModel.current) -> StageAudit {
            StageAudit(stage: record.stage, kind: record.kind, key: record.key, audited: started, commit: commit,
                       originalThreads: record.threads, auditThreads: ran, originalCPU: record.cpuModel, auditCPU: cpu,
                       verdict: verdict, error: error, outputs: outputs, wallSeconds: Date().timeIntervalSince(started))
        }
        let result: ScratchRecompute.Result
        do { result = try recompute.recompute(record, environment: environment, progress: progress) } catch {
            return finding(.couldNotRun, error: "\(error)")
        }
        defer { recompute.finish(result.scratch) }
        switch result.outcome {
        case .succeeded(let again):
            let outputs = compare(record, with: again, in: result.scratch)
            let ran = again.threads ?? threads
            let cpu = again.cpuModel ?? CPUModel.current
            let verdict = StageAudit.verdict(outputs: outputs, originalThreads: record.threads, auditThreads: ran,
                                             originalCPU: record.cpuModel, auditCPU: cpu, tolerance: tolerance(record.kind))
            return finding(verdict, outputs: outputs, threads: ran, cpu: cpu)
        case .failed(let reason, let tail):
            let last = tail.split(separator: "\n").last.map(String.init)
            let note = last.flatMap { reason.contains($0) ? nil : " (last log line: \($0))" } ?? ""
            return finding(.couldNotRun, error: reason + note)
        case .corruptInput(let reason):
            return finding(.couldNotRun, error: "\(reason); `bnrepro run` recomputes it")
        case .interrupted(let signal):
            return finding(.couldNotRun, error: "interrupted by \(InterruptSignals.name(signal))")
        }
    }

    /// Every output of either record, by name: the same digest is identical; otherwise the formats say
    /// what differs inside.
    func compare(_ cached: ActionRecord, with again: ActionRecord, in scratch: CacheStore) -> [StageAudit.Output] {
        Set(cached.outputs.keys).union(again.outputs.keys).sorted().map { name in
            switch (cached.outputs[name], again.outputs[name]) {
            case (let a?, let b?) where a.digest == b.digest: return StageAudit.Output(name: name, result: .identical)
            case (let a?, let b?):
                do {
                    let cached = try store.readObject(a.digest), recomputed = try scratch.readObject(b.digest)
                    return StageAudit.Output(name: name, result: .differs,
                                             details: OutputComparison.details(name: name, cached: cached, recomputed: recomputed),
                                             largestRelative: NumericDifference.largestRelative(name: name, cached: cached, recomputed: recomputed))
                } catch {
                    return StageAudit.Output(name: name, result: .differs, details: ["cannot compare: \(error)"])
                }
            case (_?, nil): return StageAudit.Output(name: name, result: .onlyCached)
            default: return StageAudit.Output(name: name, result: .onlyRecomputed)
            }
        }
    }
}
