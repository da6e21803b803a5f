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
    /// without an exit status). A forced rerun has an old record under the same key, so the exit
    /// status decides, and the store says why.
    public func outcome(of spec: ActionSpec, store: CacheStore, exitStatus: Int32?, fallback: String) -> ExecutionOutcome {
        if exitStatus == StageExecution.Outcome.succeeded.rawValue, let record = store.record(spec.key) { return .succeeded(record) }
        let failure = store.failure(spec.key)
        if exitStatus == StageExecution.Outcome.corruptInput.rawValue {
            return .corruptInput(failure?.error ?? "an input was corrupt")
        }
        guard let failure, exitStatus != nil else { return .failed(reason: fallback, logTail: "") }
        let tail = failure.log.flatMap { LogTail.read(object: $0, in: store) } ?? ""
        return .failed(reason: failure.error ?? fallback, logTail: tail)
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

    public func execute(_ spec: ActionSpec, store: CacheStore, progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome {
        let process = Process()
        process.executableURL = worker
        process.arguments = ["exec", spec.key, "--cache", store.root.path, "--executor", name]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            guard try workers.start(process, stage: spec.stage) else { return .interrupted(signal: workers.stopSignal ?? SIGTERM) }
        } catch {
            return .failed(reason: "cannot start \(worker.path): \(error.localizedDescription)", logTail: "")
        }
        let errText = LockedText()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) {
            ProgressLines.forward(out.fileHandleForReading, to: progress)
        }
        DispatchQueue.global().async(group: readers) {
            errText.set(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        process.waitUntilExit()
        workers.exited(process)
        readers.wait()
        let how = process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)"
            : "exited with status \(process.terminationStatus)"
        let detail = errText.value.trimmingCharacters(in: .whitespacesAndNewlines)
        let exitStatus = process.terminationReason == .exit ? process.terminationStatus : nil
        let result = outcome(of: spec, store: store, exitStatus: exitStatus, fallback: "worker \(how)" + (detail.isEmpty ? "" : ": \(detail)"))
        // A worker that finished before the stop keeps its result; any other end after a stop is the stop's doing.
        if case .succeeded = result { return result }
        if let sig = workers.stopSignal { return .interrupted(signal: sig) }
        return result
    }
}

/// A worker's output as it arrives, in chunks that may split lines: passes on the progress lines.
struct ProgressLines {
    private var partial = Data()

    mutating func feed(_ chunk: Data, to progress: (StageProgress) -> Void) {
        partial.append(chunk)
        while let newline = partial.firstIndex(of: 0x0A) {
            let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
            partial.removeSubrange(partial.startIndex...newline)
            if let p = StageProgress.parseMarked(line) { progress(p) }
        }
    }

    /// Reads `handle` to its end.
    static func forward(_ handle: FileHandle, to progress: (StageProgress) -> Void) {
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

final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ s: String) { lock.lock(); text = s; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}
