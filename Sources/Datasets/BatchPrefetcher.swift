import Foundation

/// Makes one epoch's batches on a background thread, `depth` batches ahead of the consumer, so that
/// the training step does not wait for input. A bounded queue under a condition variable: the producer
/// blocks when it is `depth` ahead, the consumer when it has caught up; nothing polls or sleeps.
/// A class because it owns the thread; dropping it (or `cancel()`) stops the thread promptly.
public final class BatchPrefetcher: Sequence, IteratorProtocol, @unchecked Sendable {
    private let queue: BoundedQueue
    public let batchCount: Int
    private var consumed = 0

    public init(_ assembler: BatchAssembler, epoch: Int, depth: Int = 4) {
        let queue = BoundedQueue(capacity: Swift.max(1, depth))
        self.queue = queue
        let count = assembler.batchesPerEpoch
        batchCount = count
        // The thread holds the queue, never `self`, so dropping the prefetcher runs deinit, which
        // cancels the queue and lets a producer blocked on a full queue exit.
        let thread = Thread {
            let order = assembler.order(epoch: epoch)
            for b in 0..<count {
                guard queue.waitForRoom() else { return }
                queue.push(assembler.batch(epoch: epoch, index: b, order: order))
            }
        }
        thread.name = "batch-prefetch-epoch-\(epoch)"
        thread.start()
    }

    deinit { queue.cancel() }

    /// The next batch in order, waiting for it if the producer is behind; nil after the last one.
    public func next() -> ImageBatch? {
        guard consumed < batchCount, let batch = queue.pop() else { return nil }
        consumed += 1
        return batch
    }

    public func cancel() { queue.cancel() }
}

/// The producer/consumer queue of `BatchPrefetcher`: a FIFO of at most `capacity` batches.
final class BoundedQueue: @unchecked Sendable {
    private let capacity: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var items: [ImageBatch] = []  // at most `capacity`, so removeFirst is cheap
    private var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks until fewer than `capacity` items wait; false once cancelled.
    func waitForRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        return !cancelled
    }

    func push(_ batch: ImageBatch) {
        condition.lock()
        items.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until an item is there; nil once cancelled.
    func pop() -> ImageBatch? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !cancelled { condition.wait() }
        guard !items.isEmpty else { return nil }
        let batch = items.removeFirst()
        condition.broadcast()
        return batch
    }

    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
