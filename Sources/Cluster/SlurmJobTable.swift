import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// One array task that runs one stage.
public struct SlurmTask: Sendable, Equatable {
    public let jobID: String
    public let index: Int
    public let directory: URL
    public let stage: String
    /// Where the job script writes the task's exit status.
    public let statusFile: URL
    /// The detached campaign whose task this run follows instead of submitting the stage (nil: its own).
    public var campaign: String? = nil
    /// How Slurm names the task: `1234_5`.
    public var id: String { "\(jobID)_\(index)" }
}

/// What one run has submitted, shared by the threads that follow the jobs: the task of each key, the
/// arrays with tasks still open (what squeue is asked about, and what Ctrl-C cancels), and the last
/// squeue answer, so that a hundred waiting stages cost one squeue call per interval, not a hundred.
final class SlurmJobTable: @unchecked Sendable {
    enum Entry { case submitted(SlurmTask), refused(String) }

    private let condition = NSCondition()
    private var entries: [String: Entry] = [:]
    private var openTasks: [String: Int] = [:]
    private var openOrder: [String] = []
    /// Arrays of adopted tasks: polled, never cancelled.
    private var watched = Set<String>()
    private var cancelled = false
    private var snapshot: (taken: Date, queue: [String: SlurmQueueEntry])?
    /// Held while squeue runs, so that one thread asks and the others wait for its answer.
    private let refreshing = NSLock()
    private var interruptSignals: InterruptSignals?

    func add(jobID: String, keys: [String], stages: [String], directory: URL) {
        condition.lock(); defer { condition.unlock() }
        for (i, key) in keys.enumerated() {
            entries[key] = .submitted(SlurmTask(jobID: jobID, index: i, directory: directory, stage: stages[i],
                                                statusFile: SlurmJobScript.statusFile(key: key, in: directory)))
        }
        openTasks[jobID] = keys.count
        openOrder.append(jobID)
        // An older squeue answer cannot know the new job; without this it would look already gone.
        snapshot = nil
    }

    /// A campaign's task this run waits for: squeue is asked about it, but Ctrl-C does not cancel it,
    /// since the campaign it belongs to goes on without this run.
    func adopt(key: String, task: SlurmTask) {
        condition.lock(); defer { condition.unlock() }
        entries[key] = .submitted(task)
        watched.insert(task.jobID)
        snapshot = nil
    }

    func refuse(keys: [String], reason: String) {
        condition.lock(); defer { condition.unlock() }
        for key in keys { entries[key] = .refused(reason) }
    }

    func entry(_ key: String) -> Entry? {
        condition.lock(); defer { condition.unlock() }
        return entries[key]
    }

    /// A task's outcome is known: once every task of its array is, the array is no longer polled or cancelled.
    func finished(_ task: SlurmTask) {
        condition.lock(); defer { condition.unlock() }
        guard let open = openTasks[task.jobID] else { return }
        if open <= 1 {
            openTasks[task.jobID] = nil
            openOrder.removeAll { $0 == task.jobID }
        } else {
            openTasks[task.jobID] = open - 1
        }
    }

    var openJobIDs: [String] {
        condition.lock(); defer { condition.unlock() }
        return openOrder
    }

    /// Once the run is interrupted, a follower reports nothing more: the interrupt handler cancels the
    /// jobs and ends the process, and an outcome reported meanwhile (a cancelled job's exit status) could
    /// let the runner finish first and exit as if the stage had simply failed.
    func parkIfCancelled() {
        condition.lock(); defer { condition.unlock() }
        while cancelled { condition.wait() }
    }

    /// Marks the run cancelled and returns the arrays still open.
    func cancel() -> [String] {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        let ids = openOrder
        openOrder.removeAll()
        openTasks.removeAll()
        return ids
    }

    /// Waits one poll interval.
    func pause(_ seconds: Double) {
        condition.lock(); defer { condition.unlock() }
        _ = condition.wait(until: Date().addingTimeInterval(seconds))
    }

    /// squeue's view of the open arrays, at most `maxAge` seconds old; nil when squeue failed.
    func queue(using client: SlurmClient, maxAge: Double) -> [String: SlurmQueueEntry]? {
        refreshing.lock(); defer { refreshing.unlock() }
        condition.lock()
        if let s = snapshot, Date().timeIntervalSince(s.taken) < maxAge {
            condition.unlock()
            return s.queue
        }
        let ids = openOrder + watched.subtracting(openOrder).sorted()
        condition.unlock()
        let taken = Date()
        guard let queue = client.queue(jobIDs: ids) else { return nil }
        condition.lock()
        snapshot = (taken, queue)
        condition.unlock()
        return queue
    }

    /// Runs `handler` when the process gets SIGINT, SIGTERM or SIGHUP (see `InterruptSignals`).
    func onInterrupt(_ handler: @escaping @Sendable (Int32) -> Void) {
        condition.lock(); defer { condition.unlock() }
        interruptSignals = InterruptSignals(label: "bnrepro.slurm.interrupt", handler)
    }
}
