import Foundation

/// Items that several threads claim one at a time, in order, and their results, each slot filled once:
/// the loop of `DispatchQueue.concurrentPerform` workers that pull the next index until none is left.
public final class ParallelSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var slots: [Value?]

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next unclaimed index, or nil when every item has been claimed.
    public func claim() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    public func set(_ i: Int, _ value: Value) {
        lock.lock(); slots[i] = value; lock.unlock()
    }

    /// Every slot in item order; nil where no result was set (a worker that stopped early).
    public func values() -> [Value?] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}
