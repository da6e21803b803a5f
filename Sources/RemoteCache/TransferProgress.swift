import Foundation
import Pipeline

/// One progress line for a push or pull: bytes done of the total, the rate, and (from the fraction) the
/// console's ETA. Transfers report the bytes of each file as they go; the line is redrawn at most twice
/// a second, and not at all for a transfer that ends within its first second.
final class TransferProgress: @unchecked Sendable {
    private let console: Console
    private let label: String
    private let total: Int64
    private let started = Date()
    private let lock = NSLock()
    private var finished: Int64 = 0
    private var inFlight: [String: Int64] = [:]
    private var lastShown = Date()
    private var shown = false

    init(console: Console, label: String, totalBytes: Int64) {
        self.console = console
        self.label = label
        self.total = totalBytes
    }

    /// A file's bytes so far.
    func update(_ file: String, bytes: Int64) {
        lock.lock()
        inFlight[file] = bytes
        lock.unlock()
        show()
    }

    /// A file is done (or given up): its final size counts, its partial count is dropped.
    func complete(_ file: String, bytes: Int64) {
        lock.lock()
        inFlight[file] = nil
        finished += bytes
        lock.unlock()
        show()
    }

    var bytesDone: Int64 {
        lock.lock(); defer { lock.unlock() }
        return finished + inFlight.values.reduce(0, +)
    }

    func end() {
        lock.lock(); let wasShown = shown; lock.unlock()
        if wasShown { console.finished(label, seconds: Date().timeIntervalSince(started)) }
    }

    private func show() {
        let now = Date()
        lock.lock()
        guard now.timeIntervalSince(started) >= 1, now.timeIntervalSince(lastShown) >= 0.5 else { lock.unlock(); return }
        lastShown = now
        let first = !shown
        shown = true
        lock.unlock()
        if first { console.started(label) }
        let done = bytesDone
        let rate = Double(done) / max(now.timeIntervalSince(started), 0.001)
        let message = "\(TransferProgress.megabytes(done)) of \(TransferProgress.megabytes(total)), \(TransferProgress.megabytes(Int64(rate)))/s"
        console.progress(label, StageProgress(message: message, fraction: total > 0 ? min(1, Double(done) / Double(total)) : nil))
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
