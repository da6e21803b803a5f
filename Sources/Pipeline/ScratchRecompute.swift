import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Computes a cached stage again, from the same input objects, in a scratch cache of its own, so that
/// `audit` can compare the result with the cached one. The real cache is only read: the inputs are
/// hard-linked (or copied) out of its objects/, and the scratch cache lives under its tmp/, named for
/// this process, so a killed audit's leftovers are removed like a killed run's (`removeDeadWork`).
/// The stage runs as `bnrepro exec` in a child process, exactly as `run` would run it.
public struct ScratchRecompute: Sendable {
    public let store: CacheStore
    public let worker: URL
    public let workers: WorkerProcesses

    public init(store: CacheStore, worker: URL, workers: WorkerProcesses) {
        self.store = store
        self.worker = worker
        self.workers = workers
    }

    /// The recomputed record and the scratch cache holding its objects; `finish` removes the scratch.
    public struct Result: Sendable {
        public let scratch: CacheStore
        public let outcome: ExecutionOutcome
    }

    /// Runs the action of `record` again with `environment` added to the worker's.
    public func recompute(_ record: ActionRecord, environment: [String: String],
                          progress: @escaping @Sendable (StageProgress) -> Void) throws -> Result {
        let directory = try store.makeWorkDirectory("audit-\(record.stage)")
        let scratch: CacheStore
        do {
            scratch = try CacheStore(root: directory)
            for input in record.inputs {
                for (name, ref) in input.outputs {
                    try link(ref, into: scratch, what: "input '\(name)' of '\(input.stage)'")
                }
            }
            try scratch.writeSpec(record.spec)
        } catch {
            finish(directory)
            throw error
        }
        let executor = LocalExecutor(worker: worker, environment: environment, workers: workers)
        return Result(scratch: scratch, outcome: executor.execute(record.spec, store: scratch, progress: progress))
    }

    /// Removes a scratch cache (its objects are read-only files in writable directories).
    public func finish(_ scratch: CacheStore) { finish(scratch.root) }

    private func finish(_ directory: URL) { try? FileManager.default.removeItem(at: directory) }

    /// Makes the real object `ref` an object of `scratch`: a hard link when both are on one filesystem
    /// (they are: scratch is under the cache's tmp/), otherwise a copy. Never a symlink, which the
    /// store would refuse to read, and never a write into the real object.
    private func link(_ ref: OutputRef, into scratch: CacheStore, what: String) throws {
        let source = store.objectPath(ref.digest), target = scratch.objectPath(ref.digest)
        guard store.has(ref) else { throw PipelineError.io(path: source.path, reason: "\(what) is missing from the cache") }
        try FileIO.createDirectory(target.deletingLastPathComponent())
        if FileIO.regularFileSize(target) == ref.size { return }
        if Glibc.link(source.path, target.path) == 0 { return }
        do { try FileManager.default.copyItem(at: source, to: target) } catch {
            throw PipelineError.io(path: source.path, reason: "cannot copy \(what) into the audit's scratch cache: \(ErrorText.describe(error))")
        }
    }
}
