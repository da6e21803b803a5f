import Foundation

/// What the runner records of an attempt the worker could not record itself: a worker killed by a
/// signal, or one whose failure record did not fit on a full disk. The record has no log (the worker's
/// could not be stored either), and its error says who wrote it.
public final class RunnerRecord: @unchecked Sendable {
    public let started: Date
    public let executor: String
    /// From wait4, for a worker killed by a signal.
    public var peakMemoryBytes: Int64?

    public init(started: Date, executor: String) {
        self.started = started
        self.executor = executor
    }

    /// Writes the failure record (spending the cache's reserve if it must); returns what to add to the
    /// reason: who wrote the record, or why nobody could.
    func write(_ spec: ActionSpec, error: String, workerProblem: String?, store: CacheStore) -> String {
        let record = make(spec, status: .failed, error: error)
        let lost = workerProblem.map { "the worker could not write its failure record (\($0))" }
        do { try store.writeSpendingReserve(record) } catch {
            return "\n(" + (lost.map { $0 + "; " } ?? "") + "nor could the runner: \(error); `bnrepro show` will not know of this failure)"
        }
        return lost.map { "\n(\($0); the runner recorded the failure instead)" } ?? ""
    }

    /// An interruption: when and by which signal, never a result (it goes to failures/, not actions/).
    public func writeInterruption(_ spec: ActionSpec, signal: Int32, store: CacheStore) throws {
        try store.writeSpendingReserve(make(spec, status: .interrupted, error: "interrupted by \(InterruptSignals.name(signal))"))
    }

    private func make(_ spec: ActionSpec, status: ActionRecord.Status, error: String) -> ActionRecord {
        var record = ActionRecord(spec: spec, status: status, started: started, executor: executor)
        record.error = error
        record.finished = Date()
        record.wallSeconds = record.finished.timeIntervalSince(started)
        record.peakMemoryBytes = peakMemoryBytes
        return record
    }
}
