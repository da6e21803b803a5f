import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ExecutionOutcome: Sendable {
    case succeeded(ActionRecord)
    case failed(reason: String, logTail: String)
    /// An input object failed its hash check and was quarantined: its producer must run again.
    case corruptInput(String)
    /// The run was stopped by this signal before the stage finished; nothing of it was kept.
    case interrupted(signal: Int32)
}

/// A stage the runner is about to execute, with its spec already in the store.
public struct StageLaunch: Sendable {
    public let stage: ResolvedStage
    public let spec: ActionSpec
}

/// Runs an action whose spec is already in the store. `local` runs `bnrepro exec` as a child
/// process; other executors (Slurm) submit the same command elsewhere.
public protocol Executor: Sendable {
    var name: String { get }
    /// Told of all the stages the runner launches together, before their `execute` calls, so that a
    /// batch system can submit them as one (Slurm: one job array per matrix). The default does nothing.
    func prepare(_ launches: [StageLaunch], store: CacheStore)
    func execute(_ spec: ActionSpec, store: CacheStore, progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome
}

extension Executor {
    public func prepare(_ launches: [StageLaunch], store: CacheStore) {}

    /// Reads what the worker left in the store, given how `bnrepro exec` exited (nil if it died
    /// without an exit status) and what it said on stderr (`report`). A forced rerun has an old record
    /// under the same key, so the exit status decides, and the store says why. When the worker wrote no
    /// failure record for this attempt (a full disk, a kill), the runner writes one itself from what it
    /// knows (`RunnerRecord`), and the reason says whether that worked.
    public func outcome(of spec: ActionSpec, store: CacheStore, exitStatus: Int32?, fallback: String,
                        report: WorkerReport = WorkerReport(), attempt: RunnerRecord? = nil) -> ExecutionOutcome {
        if exitStatus == StageExecution.Outcome.succeeded.rawValue, let record = store.record(spec.key) { return .succeeded(record) }
        // The worker's record is this attempt's if it said it failed and did not say the record was lost;
        // a worker that said nothing (an older binary, a Slurm job's file) is taken at its record's word.
        let recorded = exitStatus != nil && report.recordProblem == nil ? store.failure(spec.key) : nil
        if exitStatus == StageExecution.Outcome.corruptInput.rawValue {
            return .corruptInput(recorded?.error ?? report.failure ?? "an input was corrupt")
        }
        if let recorded, report.failure != nil || report == WorkerReport() {
            let tail = recorded.log.flatMap { LogTail.read(object: $0, in: store) } ?? report.logTail.joined(separator: "\n")
            return .failed(reason: recorded.error ?? report.failure ?? fallback, logTail: tail)
        }
        let reason = report.failure ?? fallback
        let note = attempt.map { $0.write(spec, error: reason, workerProblem: report.recordProblem, store: store) } ?? ""
        let logNote = report.logProblem.map { "\n(the log could not be stored: \($0))" } ?? ""
        return .failed(reason: reason + note + logNote, logTail: report.logTail.joined(separator: "\n"))
    }
}

/// The last lines of a stage's log (a cached log object or a Slurm output file), without the progress
/// lines, which the console has shown already.
public enum LogTail {
    public static func read(_ url: URL, lines: Int = 15) -> String? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return tail(text, lines: lines)
    }

    /// A log object, read as objects are (never through a symlink).
    public static func read(object digest: String, in store: CacheStore, lines: Int = 15) -> String? {
        guard let data = try? store.readObject(digest) else { return nil }
        return tail(String(decoding: data, as: UTF8.self), lines: lines)
    }

    static func tail(_ text: String, lines: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(StageExecution.progressMarker) }.suffix(lines).joined(separator: "\n")
    }
}

/// Runs each stage as `<worker> exec <key> --cache <dir>` on this machine. `workers` knows every child,
/// so that a signal to the runner stops them (`WorkerProcesses.stopOnInterrupt`).
public struct LocalExecutor: Executor {
    public let name = "local"
    public let worker: URL
    public let environment: [String: String]
    public let workers: WorkerProcesses

    public init(worker: URL, environment: [String: String] = [:], workers: WorkerProcesses = WorkerProcesses()) {
        self.worker = worker
        self.environment = environment
        self.workers = workers
    }

    /// The cores shared out between `jobs` stages at once: each child gets cores / jobs OpenMP threads
    /// unless the user set OMP_NUM_THREADS. Two stages of two spinning threads each on two cores ran a
    /// ResNet-20 training step 2.1× slower than two stages of one thread (measured: 48 s against 22 s).
    public static func threadEnvironment(jobs: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                                         inherited: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        guard WorkerThreads.requested(environment: inherited) == nil, jobs > 1 else { return [:] }
        return ["OMP_NUM_THREADS": String(max(1, cores / jobs))]
    }

    /// The OpenMP threads each stage computes with at `jobs` stages at once.
    public static func threadsPerStage(jobs: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                                       inherited: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        let environment = inherited.merging(threadEnvironment(jobs: jobs, cores: cores, inherited: inherited)) { $1 }
        return WorkerThreads.count(environment: environment, cores: cores)
    }

    public func execute(_ spec: ActionSpec, store: CacheStore, progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome {
        let attempt = RunnerRecord(started: Date(), executor: name)
        let child: SpawnedWorker
        do {
            guard let started = try workers.start(stage: spec.stage, {
                try SpawnedWorker(executable: worker, arguments: ["exec", spec.key, "--cache", store.root.path, "--executor", name],
                                  environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
            }) else { return .interrupted(signal: workers.stopSignal ?? SIGTERM) }
            child = started
        } catch {
            return .failed(reason: "cannot start \(worker.path): \(error)", logTail: "")
        }
        let errText = LockedText()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) {
            ProgressLines.forward(child.output, to: progress)
        }
        DispatchQueue.global().async(group: readers) {
            errText.set(String(decoding: child.errors.readDataToEndOfFile(), as: UTF8.self))
        }
        let ending = child.wait()
        workers.exited(child)
        readers.wait()
        let report = WorkerReport.parse(errText.value)
        let detail = report.otherLines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let exitStatus: Int32?
        let how: String
        switch ending.termination {
        case .exited(let status):
            exitStatus = status
            how = "exited with status \(status)"
        case .signaled(let sig):
            exitStatus = nil
            attempt.peakMemoryBytes = ending.peakMemoryBytes
            how = LocalExecutor.describeKill(signal: sig, peakMemoryBytes: ending.peakMemoryBytes)
        }
        // A worker that finished before the stop keeps its result; any other end after a stop is the stop's doing.
        if workers.stopSignal != nil, exitStatus != StageExecution.Outcome.succeeded.rawValue {
            return .interrupted(signal: workers.stopSignal ?? SIGTERM)
        }
        return outcome(of: spec, store: store, exitStatus: exitStatus, fallback: "worker \(how)" + (detail.isEmpty ? "" : ": \(detail)"),
                       report: report, attempt: attempt)
    }

    /// "killed by SIGKILL (signal 9) at a peak of 1.4 GiB resident", with a word on the OOM killer.
    static func describeKill(signal sig: Int32, peakMemoryBytes: Int64?) -> String {
        var text = "killed by \(InterruptSignals.name(sig)) (signal \(sig))"
        if let peak = peakMemoryBytes { text += " at a peak of \(ByteCount.text(peak)) resident" }
        if sig == SIGKILL { text += "; SIGKILL is usually the kernel's out-of-memory killer (see `dmesg`)" }
        return text
    }
}

/// A worker's output as it arrives, in chunks that may split lines: passes on the progress lines.
public struct ProgressLines {
    private var partial = Data()

    public init() {}

    public mutating func feed(_ chunk: Data, to progress: (StageProgress) -> Void) {
        partial.append(chunk)
        while let newline = partial.firstIndex(of: 0x0A) {
            let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
            partial.removeSubrange(partial.startIndex...newline)
            if let p = StageProgress.parseMarked(line) { progress(p) }
        }
    }

    /// Reads `handle` to its end.
    public static func forward(_ handle: FileHandle, to progress: (StageProgress) -> Void) {
        var lines = ProgressLines()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            lines.feed(chunk, to: progress)
        }
    }
}

extension StageProgress {
    /// A progress line as the worker prints it (`StageExecution.progressMarker` + JSON), or nil.
    static func parseMarked(_ line: String) -> StageProgress? {
        guard line.hasPrefix(StageExecution.progressMarker) else { return nil }
        return try? JSONDecoder().decode(StageProgress.self, from: Data(line.dropFirst(StageExecution.progressMarker.count).utf8))
    }
}

/// A string one thread writes and another reads.
public final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    public init() {}
    public func set(_ s: String) { lock.lock(); text = s; lock.unlock() }
    public var value: String { lock.lock(); defer { lock.unlock() }; return text }
}
