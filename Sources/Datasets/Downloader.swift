import AtomicIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Fetches a URL into a file, verifying its MD5. The bytes go first to "<destination>.partial" beside the
/// destination; an interrupted transfer is resumed from there (HTTP Range), by the next attempt or the next
/// run. Only a file whose checksum matches is renamed to the destination; a mismatch deletes it.
public struct Downloader: Sendable {
    /// Seconds without data after which an attempt fails (whole seconds, at least 1).
    public var timeout: TimeInterval
    /// Extra attempts after the first fails.
    public var retries: Int
    /// Wait before retry k (1-based) is backoff × 2^(k-1) seconds, at most `maxBackoff`.
    public var backoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// Minimum seconds between progress reports (the last one is always reported).
    public var progressInterval: TimeInterval
    /// Where "<name>.partial" lives; nil means beside the destination. A pipeline stage writes its
    /// outputs to a fresh directory each run, so it keeps partials elsewhere to resume across runs.
    public var partialDirectory: URL?

    public init(timeout: TimeInterval = 60, retries: Int = 5, backoff: TimeInterval = 1,
                maxBackoff: TimeInterval = 30, progressInterval: TimeInterval = 0.25, partialDirectory: URL? = nil) {
        self.partialDirectory = partialDirectory
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.progressInterval = progressInterval
    }

    public static func partialFile(for destination: URL, in directory: URL? = nil) -> URL {
        (directory ?? destination.deletingLastPathComponent()).appendingPathComponent(destination.lastPathComponent + ".partial")
    }

    /// Convenience with the parameter names.
    public static func fetch(url: URL, to destination: URL, expectedMD5: String, retries: Int = 5,
                             timeout: TimeInterval = 60, progress: ((DownloadProgress) -> Void)? = nil) throws -> DownloadResult {
        try Downloader(timeout: timeout, retries: retries).fetch(url: url, to: destination,
                                                                 expectedMD5: expectedMD5, progress: progress)
    }

    public func fetch(url: URL, to destination: URL, expectedMD5: String,
                      progress: ((DownloadProgress) -> Void)? = nil) throws -> DownloadResult {
        let expected = expectedMD5.lowercased()
        let fm = FileManager.default
        guard let scheme = url.scheme?.lowercased(), ["file", "http", "https"].contains(scheme) else {
            throw DownloadError.unsupportedScheme(url: url.absoluteString)
        }
        do {
            try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw DownloadError.io(path: destination.deletingLastPathComponent().path, message: "cannot create: \(error)")
        }
        // A verified file already in place is not fetched again.
        if fm.fileExists(atPath: destination.path) {
            let d = try FileDigests.compute(destination)
            if d.md5 == expected {
                return DownloadResult(file: destination, bytes: d.bytes, md5: d.md5, sha256: d.sha256,
                                      attempts: 0, resumedBytes: 0)
            }
        }
        let partial = Self.partialFile(for: destination, in: partialDirectory)
        if let d = partialDirectory {
            do { try fm.createDirectory(at: d, withIntermediateDirectories: true) } catch {
                throw DownloadError.io(path: d.path, message: "cannot create: \(error)")
            }
        }
        let reporter = ProgressReporter(interval: progressInterval, sink: progress)
        let (attempts, resumed) = try transfer(url, into: partial, expectedMD5: expected, reporter: reporter)

        let digests = try FileDigests.compute(partial)
        guard digests.md5 == expected else {
            try? fm.removeItem(at: partial)
            throw DownloadError.checksumMismatch(url: url.absoluteString, expectedMD5: expected,
                                                 gotMD5: digests.md5, bytes: digests.bytes)
        }
        try syncAndRename(partial, to: destination)
        return DownloadResult(file: destination, bytes: digests.bytes, md5: digests.md5, sha256: digests.sha256,
                              attempts: attempts, resumedBytes: resumed)
    }

    /// Returns (attempts made, bytes resumed from an earlier partial transfer).
    private func transfer(_ url: URL, into partial: URL, expectedMD5: String,
                          reporter: ProgressReporter) throws -> (Int, Int64) {
        switch url.scheme?.lowercased() {
        case "file":
            try LocalCopy.copy(from: url, to: partial, reporter: reporter)
            return (1, 0)
        case "http", "https":
            break
        default:
            throw DownloadError.unsupportedScheme(url: url.absoluteString)
        }
        let initial = Self.size(of: partial)
        var lastError = ""
        for attempt in 1...(retries + 1) {
            if attempt > 1 {
                Thread.sleep(forTimeInterval: min(maxBackoff, backoff * pow(2, Double(attempt - 2))))
            }
            let handle = try openForAppend(partial)
            let offset = (try? handle.seekToEnd()).map(Int64.init) ?? 0
            reporter.startAttempt(at: offset)
            let outcome = HTTPTransfer.run(url: url, appendingTo: handle, offset: offset, timeout: timeout) {
                reporter.report(bytes: $0, total: $1)
            }
            try? handle.synchronize()
            try? handle.close()
            switch outcome {
            case .complete(let restarted):
                reporter.finish()
                return (attempt, restarted ? 0 : initial)
            case .permanent(let status):
                if status == 416 {
                    // Range not satisfiable: the partial is already whole (a run that died before
                    // verifying it) or longer than the resource. Keep it if it is the right file,
                    // otherwise start over from byte 0.
                    if (try? FileDigests.compute(partial).md5) == expectedMD5 { return (attempt, initial) }
                    try? FileManager.default.removeItem(at: partial)
                    lastError = "HTTP 416 for a resumed request; restarting from byte 0"
                    continue
                }
                throw DownloadError.httpStatus(url: url.absoluteString, status: status)
            case .transient(let message):
                lastError = message
            case .cannotWrite(let message):
                // Our own disk, not the network: trying again would fail the same way (a full disk).
                throw DownloadError.io(path: partial.path, message: message)
            }
        }
        throw DownloadError.failed(url: url.absoluteString, attempts: retries + 1, lastError: lastError)
    }

    private func openForAppend(_ url: URL) throws -> FileHandle {
        let fm = FileManager.default
        if !fm.fileExists(atPath: url.path) { _ = fm.createFile(atPath: url.path, contents: nil) }
        do { return try FileHandle(forWritingTo: url) } catch {
            throw DownloadError.io(path: url.path, message: "cannot open for writing: \(error)")
        }
    }

    private func syncAndRename(_ from: URL, to: URL) throws {
        let fd = open(from.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            defer { close(fd) }
            guard fsync(fd) == 0 else {
                throw DownloadError.io(path: from.path, message: WriteFailure.describe("fsync failed", code: errno, path: from.path))
            }
        }
        if rename(from.path, to.path) == 0 { return }
        if errno == EXDEV {
            // The partial lives on another file system: copy, then drop the partial.
            do {
                try? FileManager.default.removeItem(at: to)
                try FileManager.default.copyItem(at: from, to: to)
                try FileManager.default.removeItem(at: from)
                return
            } catch {
                throw DownloadError.io(path: to.path, message: "cannot copy the download into place: \(error)")
            }
        }
        throw DownloadError.io(path: to.path, message: WriteFailure.describe("cannot move the download into place", code: errno, path: to.path))
    }

    static func size(of url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size]) as? NSNumber)?.int64Value ?? 0
    }
}
