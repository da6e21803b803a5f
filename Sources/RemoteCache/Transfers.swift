import Foundation
import Pipeline

/// Runs transfers several at a time, each retried with exponential back-off when the failure may pass
/// (a lost connection, a timeout, a 5xx, a server that is restarting). Answers like 401 or 404 are not
/// retried: waiting does not change them.
public struct Transfers: Sendable {
    public var jobs: Int
    public var attempts: Int
    /// The first wait; each later one doubles (with up to 25 % jitter, so that parallel transfers that
    /// failed together do not retry together).
    public var firstDelay: TimeInterval

    public init(jobs: Int = 4, attempts: Int = 4, firstDelay: TimeInterval = 0.25) {
        self.jobs = jobs
        self.attempts = attempts
        self.firstDelay = firstDelay
    }

    /// `body` for every item, `jobs` at once; the results in the items' order.
    func each<Item: Sendable, Value: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value) -> [Result<Value, Error>] {
        let results = ParallelSlots<Result<Value, Error>>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, items.count))) { _ in
            while let i = results.claim() {
                results.set(i, Result { try retrying { try body(items[i]) } })
            }
        }
        return results.values().map { $0 ?? .failure(RemoteError.local(path: "", reason: "not transferred")) }
    }

    /// `body`, again after a pause while it fails with an error that may pass.
    func retrying<Value>(_ body: () throws -> Value) throws -> Value {
        var delay = firstDelay
        for attempt in 1... {
            do { return try body() } catch let error as RemoteError where Transfers.mayPass(error) && attempt < attempts {
                Thread.sleep(forTimeInterval: delay * Double.random(in: 1...1.25))
                delay *= 2
            }
        }
        fatalError("unreachable: the loop returns or throws")
    }

    static func mayPass(_ error: RemoteError) -> Bool {
        if case .unreachable = error { return true }
        return error.isTransient
    }
}
