import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file writes that are atomic on POSIX file systems: write a temporary file in the destination's
/// directory (same file system, so rename cannot copy), fsync it, rename it over the destination, then
/// fsync the directory so the rename itself survives a crash.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(chunks: [bytes], to: url)
    }

    public static func write(_ data: Data, to url: URL, mode: mode_t = 0o666) throws {
        try write(chunks: [[UInt8](data)], to: url, mode: mode)
    }

    /// The file is the concatenation of `chunks`.
    public static func write(chunks: [[UInt8]], to url: URL, mode: mode_t = 0o666) throws {
        let directory = url.deletingLastPathComponent().path
        let temp = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let total = chunks.reduce(0) { $0 + $1.count }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(directory)", url, bytes: total) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        for chunk in chunks {
            let written: Bool = chunk.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    guard let base = buffer.baseAddress else { return true }
                    let n = Glibc.write(fd, base + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    offset += n
                }
                return true
            }
            guard written else {
                let e = failure("write failed", url, bytes: total)
                close(fd)
                throw e
            }
        }
        guard fsync(fd) == 0 else { let e = failure("fsync failed", url, bytes: total); close(fd); throw e }
        guard close(fd) == 0 else { throw failure("close failed", url, bytes: total) }
        guard Glibc.rename(temp, url.path) == 0 else { throw failure("rename into place failed", url) }
        ok = true
        try syncDirectory(url.deletingLastPathComponent())
    }

    /// Renames a finished file into place and makes the directory entry durable.
    public static func rename(_ from: URL, to: URL) throws {
        guard Glibc.rename(from.path, to.path) == 0 else { throw failure("cannot rename \(from.path) into place", to) }
        try syncDirectory(to.deletingLastPathComponent())
    }

    /// Makes a rename in `url` durable. A directory that cannot be opened or whose file system does not
    /// sync directories (EINVAL, ENOTSUP) is left as it is, as SQLite does; any other failure means the
    /// rename may not survive a crash, and is an error.
    public static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard fsync(fd) == 0 || errno == EINVAL || errno == ENOTSUP else { throw failure("fsync of the directory failed", url) }
    }

    private static func failure(_ what: String, _ url: URL, bytes: Int? = nil) -> Failure {
        Failure(path: url.path, message: WriteFailure.describe(what, code: errno, path: url.path, bytes: bytes))
    }
}
