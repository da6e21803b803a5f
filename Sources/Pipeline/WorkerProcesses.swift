import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `bnrepro exec` children of one local run, so that a signal to the runner stops them too. Each
/// worker leads a process group of its own (`SpawnedWorker` starts children that way), so a terminal's
/// Ctrl-C reaches only the runner, and a worker left running would finish its stage after the runner
/// released the cache lock. Starting a worker and deciding to stop them all take the same lock: no
/// worker starts after the stop.
public final class WorkerProcesses: @unchecked Sendable {
    /// How long a worker may take to exit after SIGTERM before it gets SIGKILL.
    public static let grace = 5.0

    private let condition = NSCondition()
    private var running: [Int32: String] = [:]
    private var stopping: Int32?

    public init() {}

    /// The signal that stopped the run, if one did.
    public var stopSignal: Int32? {
        condition.lock(); defer { condition.unlock() }
        return stopping
    }

    /// Starts a worker for `stage` with `spawn`, unless the run is being stopped (then it returns nil).
    func start(stage: String, _ spawn: () throws -> SpawnedWorker) throws -> SpawnedWorker? {
        condition.lock(); defer { condition.unlock() }
        guard stopping == nil else { return nil }
        let worker = try spawn()
        running[worker.pid] = stage
        return worker
    }

    /// Called once the worker has been reaped.
    func exited(_ worker: SpawnedWorker) {
        condition.lock(); defer { condition.unlock() }
        running[worker.pid] = nil
        condition.broadcast()
    }

    public struct Stopped: Sendable {
        public var stages: [String] = []
        /// Those that outlived the grace period and were killed.
        public var killed: [String] = []
    }

    /// Sends SIGTERM to every worker's process group, waits up to `grace` seconds for them to exit, then
    /// sends SIGKILL to the rest and waits for those. Returns once no worker of this run is alive.
    /// `onKill` hears of the killed stages before any of them is reported back to the runner.
    public func stopAll(signal sig: Int32, grace: Double = WorkerProcesses.grace, onKill: ([String]) -> Void = { _ in }) -> Stopped {
        condition.lock(); defer { condition.unlock() }
        if stopping == nil { stopping = sig }
        var result = Stopped()
        result.stages = running.values.sorted()
        for pid in running.keys { WorkerProcesses.signalGroup(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while !running.isEmpty, condition.wait(until: deadline) {}
        result.killed = running.values.sorted()
        if !result.killed.isEmpty { onKill(result.killed) }
        for pid in running.keys { WorkerProcesses.signalGroup(pid, SIGKILL) }
        while !running.isEmpty { condition.wait() }
        return result
    }

    /// The worker's whole group (what it started too); the worker alone if it leads no group.
    private static func signalGroup(_ pid: Int32, _ sig: Int32) {
        if getpgid(pid) == pid { kill(-pid, sig) } else { kill(pid, sig) }
    }

    /// Stops the workers when the runner gets SIGINT, SIGTERM or SIGHUP, and says what it stopped. The
    /// stages then end as interrupted (see `LocalExecutor`); the caller exits with 128 + the signal.
    public func stopOnInterrupt(console: Console) -> InterruptSignals {
        InterruptSignals(label: "bnrepro.local.interrupt") { [self] sig in
            let name = InterruptSignals.name(sig)
            let count = runningCount
            console.note("\(name) received; stopping \(count) running stage\(count == 1 ? "" : "s")")
            _ = stopAll(signal: sig) { killed in
                console.note("killed after \(Int(WorkerProcesses.grace)) s without exiting: \(killed.joined(separator: ", "))")
            }
        }
    }

    private var runningCount: Int {
        condition.lock(); defer { condition.unlock() }
        return running.count
    }
}
