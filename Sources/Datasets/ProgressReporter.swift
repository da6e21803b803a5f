import Foundation

/// Turns raw byte counts into rate/ETA reports, at most one per `interval` seconds. A class because the
/// transfer callbacks (on URLSession's queue) and the retry loop share its counters; a lock guards them.
final class ProgressReporter: @unchecked Sendable {
    private let interval: TimeInterval
    private let sink: ((DownloadProgress) -> Void)?
    private let lock = NSLock()
    private var attemptStart = Date()
    private var attemptStartBytes: Int64 = 0
    private var lastReport = Date.distantPast
    private var last = DownloadProgress(bytes: 0, totalBytes: nil, bytesPerSecond: 0)

    init(interval: TimeInterval, sink: ((DownloadProgress) -> Void)?) {
        self.interval = interval
        self.sink = sink
    }

    func startAttempt(at bytes: Int64) {
        lock.lock()
        attemptStart = Date()
        attemptStartBytes = bytes
        lock.unlock()
    }

    func report(bytes: Int64, total: Int64?, force: Bool = false) {
        lock.lock()
        let now = Date()
        let elapsed = now.timeIntervalSince(attemptStart)
        let rate = elapsed > 0 ? Double(max(0, bytes - attemptStartBytes)) / elapsed : 0
        last = DownloadProgress(bytes: bytes, totalBytes: total, bytesPerSecond: rate)
        let due = force || now.timeIntervalSince(lastReport) >= interval
        if due { lastReport = now }
        let snapshot = last
        lock.unlock()
        if due { sink?(snapshot) }
    }

    func finish() {
        lock.lock()
        let snapshot = last
        lock.unlock()
        report(bytes: snapshot.bytes, total: snapshot.totalBytes ?? snapshot.bytes, force: true)
    }
}
