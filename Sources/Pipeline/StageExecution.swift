import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way a stage runs, whichever executor asked: `bnrepro exec <key>` calls this in a process of
/// its own. It checks the inputs, runs the kind with stdout and stderr captured into the log, stores
/// every output, then the log, then the record. Progress goes to the original stdout as marked lines.
public enum StageExecution {
    public static let progressMarker = "\u{1E}bnrepro-progress "

    public enum Outcome: Int32 { case succeeded = 0, failed = 1, corruptInput = 3 }

    public static func execute(key: String, store: CacheStore, registry: KindRegistry, executor: String) -> Outcome {
        let started = Date()
        let spec: ActionSpec
        do { spec = try store.spec(key) } catch {
            WorkerReport.sayFailed("\(error)")
            WorkerReport.sayNoRecord("a record needs the action spec")
            return .failed
        }
        var record = ActionRecord(spec: spec, status: .failed, started: started, executor: executor)
        record.gitCommit = ProcessInfo.processInfo.environment["BNREPRO_GIT_COMMIT"]
        record.threads = WorkerThreads.count()
        record.cpuModel = CPUModel.current
        record.sourceDigest = registry.sourceDigest?(spec.kind, spec.params)
        // Two workers never compute one stage at once. One that waited finds the other's result, if it
        // succeeded, and stops there: the runner asked for the stage to be computed, and it has been.
        let recordBefore = recordIdentity(store, key)
        let (lock, waited): (StageLock, Bool)
        do { (lock, waited) = try self.lock(spec, key: key, store: store) } catch {
            return fail(&record, store: store, log: nil, error: "\(error)")
        }
        defer { withExtendedLifetime(lock) {} }
        if waited, store.record(key) != nil, recordIdentity(store, key) != recordBefore { return .succeeded }
        guard let kind = registry.kind(named: spec.kind) else {
            return fail(&record, store: store, log: nil, error: "this binary has no stage kind '\(spec.kind)'")
        }
        guard kind.version(for: spec.params) == spec.version else {
            let e = PipelineError.kindVersionMismatch(stage: spec.stage, kind: spec.kind, expected: spec.version,
                                                      found: kind.version(for: spec.params))
            return fail(&record, store: store, log: nil, error: e.description)
        }
        let verified = VerifiedInputs()
        defer { verified.close() }
        if let problem = inputProblem(spec, verified: verified, store: store) {
            _ = fail(&record, store: store, log: nil, error: problem.message)
            return problem.outcome
        }
        let dirs: WorkDirectories
        do { dirs = try WorkDirectories(store: store, stage: spec.stage) } catch {
            return fail(&record, store: store, log: nil, error: "\(error)")
        }
        defer { try? FileManager.default.removeItem(at: dirs.work) }
        let (outputs, scratch, logURL, partials) = (dirs.outputs, dirs.scratch, dirs.log, dirs.partials)

        let capture = LogCapture(logURL)
        let context = stageContext(spec, key: key, store: store, verified: verified, outputs: outputs, scratch: scratch,
                                   partials: partials, progressHandle: capture.progressHandle)
        var error = runKind(kind, context, spec: spec, registry: registry, store: store, record: &record)
        if let lost = capture.finish() { error = error ?? lost }
        let logRef = storeLog(logURL, store: store, error: &error)
        if let error { return fail(&record, store: store, log: logRef, error: error) }

        do { record.outputs = try storeOutputs(outputs, stage: spec.stage, in: store) } catch {
            return fail(&record, store: store, log: logRef, error: ErrorText.describe(error))
        }
        record.status = .succeeded
        finishTimes(&record, log: logRef)
        try? FileManager.default.removeItem(at: partials)
        do { try store.write(record) } catch {
            record.outputs = [:]
            return fail(&record, store: store, log: logRef, error: "the stage ran, but its record could not be written: \(error)")
        }
        return .succeeded
    }

    /// The stage's lock, and whether another worker held it first (then reported as waiting).
    private static func lock(_ spec: ActionSpec, key: String, store: CacheStore) throws -> (StageLock, waited: Bool) {
        var waited = false
        let lock = try StageLock(store: store, key: key) { holder in
            waited = true
            let note = "waiting: stage \(spec.stage) is being computed by \(holder)"
            WorkerReport.say(note)
            reportProgress(StageProgress(message: note, fraction: nil), to: FileHandle.standardOutput)
        }
        return (lock, waited)
    }

    /// Runs the kind (with the engine's plan, for a kind that runs the engine); the error, if it failed.
    private static func runKind(_ kind: any StageKind, _ context: StageContext, spec: ActionSpec, registry: KindRegistry,
                                store: CacheStore, record: inout ActionRecord) -> String? {
        var error: String?
        // Only a kind that runs the engine needs its plan (measuring one costs a fraction of a second).
        let engineSetup = kind.workUnits(params: spec.params) == nil ? nil : registry.engineSetup
        do {
            try engineSetup?.prepare(store.root)
            try kind.run(context)
        } catch let e { error = ErrorText.describe(e) }
        if error == nil, let engineSetup { record.enginePlan = engineSetup.finish(store.root) }
        if let error { print("error: \(error)") }
        return error
    }

    /// The log into the store; when that fails, its last lines go to the runner and the stage fails.
    private static func storeLog(_ logURL: URL, store: CacheStore, error: inout String?) -> OutputRef? {
        do { return try store.put(file: logURL) } catch let logError {
            WorkerReport.sayNoLog("\(logError)")
            // The log's last lines go to the runner instead, as far as they were written.
            if let tail = LogTail.read(logURL, lines: 15), !tail.isEmpty { WorkerReport.sayLogTail(tail) }
            error = error ?? "cannot store the log: \(logError)"
            return nil
        }
    }

    /// Inputs are re-hashed before use: a corrupted object is caught here, not in a figure. Only an input
    /// that is gone from objects/ can be recomputed; one left in place fails, with the reason. Each stays
    /// open, and the stage reads it through that descriptor (`VerifiedInputs`).
    private static func inputProblem(_ spec: ActionSpec, verified: VerifiedInputs, store: CacheStore) -> (message: String, outcome: Outcome)? {
        for input in spec.inputs {
            for (name, ref) in input.outputs {
                let what = "input '\(name)' of '\(input.stage)' (object \(ref.digest))"
                switch verified.open(ref.digest, in: store) {
                case .intact: continue
                case .missing: return ("\(what) is missing", .corruptInput)
                case .corrupt(let why, .moved(let to)): return ("\(what) is corrupt (\(why)); quarantined to \(to)", .corruptInput)
                case .corrupt(let why, .failed(let reason)):
                    return ("\(what) is corrupt (\(why)) and could not be quarantined (\(reason)); remove it by hand", .failed)
                case .unreadable(let reason): return ("\(what) cannot be read: \(reason)", .failed)
                }
            }
        }
        return nil
    }

    /// What the kind's `run` sees: its params, its verified inputs, its directories, and a progress
    /// callback that goes to the log and, marked, to the runner.
    private static func stageContext(_ spec: ActionSpec, key: String, store: CacheStore, verified: VerifiedInputs,
                                     outputs: URL, scratch: URL, partials: URL, progressHandle: FileHandle) -> StageContext {
        StageContext(
            stage: spec.stage, key: key, params: spec.params,
            inputs: spec.inputs.map { input in
                var inputs = StageInputs(stage: input.stage, kind: input.kind, params: input.params,
                                         files: input.outputs.mapValues { verified.path($0.digest, in: store) })
                inputs.storedNames = input.outputs.mapValues { store.objectPath($0.digest).lastPathComponent }
                return inputs
            },
            outputDirectory: outputs, scratchDirectory: scratch, partialsDirectory: partials,
            progress: { p in
                print("[progress] \(p.message)")
                reportProgress(p, to: progressHandle)
            })
    }

    /// Stores every file the stage wrote into its output directory, by name; a directory there is an error.
    private static func storeOutputs(_ outputs: URL, stage: String, in store: CacheStore) throws -> [String: OutputRef] {
        var refs: [String: OutputRef] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: outputs.path).sorted() {
            var isDir: ObjCBool = false
            let url = outputs.appendingPathComponent(name)
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            guard !isDir.boolValue else { throw PipelineError.stageFailed(stage: stage, reason: "output '\(name)' is a directory; outputs must be files") }
            refs[name] = try store.put(file: url)
        }
        return refs
    }

    /// The record file's inode and change time: an atomic write replaces both, so a record written while
    /// this worker waited differs from the one (or none) it saw before.
    private static func recordIdentity(_ store: CacheStore, _ key: String) -> String? {
        var st = stat()
        guard lstat(store.actionURL(key).path, &st) == 0 else { return nil }
        return "\(st.st_ino) \(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
    }

    /// A progress line for whoever reads the worker's stdout (the local executor, a Slurm job's output).
    static func reportProgress(_ p: StageProgress, to handle: FileHandle) {
        let line = progressMarker + String(decoding: (try? JSONEncoder().encode(p)) ?? Data(), as: UTF8.self) + "\n"
        handle.write(Data(line.utf8))
    }

    /// Records the failure and tells the runner why on stderr, and, if the record could not be
    /// written even with the cache's reserve spent, why not: the runner then records it itself.
    private static func fail(_ record: inout ActionRecord, store: CacheStore, log: OutputRef?, error: String) -> Outcome {
        record.status = .failed
        record.error = error
        finishTimes(&record, log: log)
        WorkerReport.sayFailed(error)
        do { try store.writeSpendingReserve(record) } catch { WorkerReport.sayNoRecord("\(error)") }
        return .failed
    }

    private static func finishTimes(_ record: inout ActionRecord, log: OutputRef?) {
        record.finished = Date()
        record.wallSeconds = record.finished.timeIntervalSince(record.started)
        record.cpuSeconds = cpuSeconds()
        record.peakMemoryBytes = peakMemoryBytes()
        record.log = log?.digest
    }

    static func cpuSeconds() -> Double {
        var total = 0.0
        for who in [RUSAGE_SELF.rawValue, RUSAGE_CHILDREN.rawValue] {
            var usage = rusage()
            getrusage(who, &usage)
            total += Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            total += Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        }
        return total
    }

    /// The larger of this worker's peak resident set and that of its largest waited-for child. The
    /// kernel keeps each child's maximum, not their sum, so children that ran at once may together
    /// have held more; the stage kinds compute in the worker itself.
    static func peakMemoryBytes() -> Int64? {
        var peak = 0
        for who in [RUSAGE_SELF.rawValue, RUSAGE_CHILDREN.rawValue] {
            var usage = rusage()
            guard getrusage(who, &usage) == 0 else { continue }
            peak = max(peak, usage.ru_maxrss)
        }
        return peakBytes(maxRSS: peak)
    }

    /// `ru_maxrss` in bytes: Linux counts it in kilobytes, macOS in bytes.
    static func peakBytes(maxRSS: Int) -> Int64? {
        #if os(Linux)
        let unit: Int64 = 1024
        #else
        let unit: Int64 = 1
        #endif
        return maxRSS > 0 ? Int64(maxRSS) * unit : nil
    }
}

/// A stage's directories for one attempt: a fresh work directory (removed afterwards) holding its
/// outputs, its scratch space and its log, and its partials directory, which outlives a failed attempt.
private struct WorkDirectories {
    let work, outputs, scratch, log, partials: URL

    init(store: CacheStore, stage: String) throws {
        work = try store.makeWorkDirectory(stage)
        outputs = work.appendingPathComponent("out")
        scratch = work.appendingPathComponent("scratch")
        log = work.appendingPathComponent("log.txt")
        partials = store.partialsDirectory(forStage: stage)
        do {
            try FileIO.createDirectory(partials)
            try FileIO.createDirectory(outputs)
            try FileIO.createDirectory(scratch)
        } catch {
            try? FileManager.default.removeItem(at: work)
            throw error
        }
    }
}

