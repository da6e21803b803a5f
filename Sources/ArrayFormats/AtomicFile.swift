import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file writes that are atomic on POSIX file systems: write a temporary file in the destination's
/// directory (same file system, so rename cannot copy), fsync it, rename it over the destination, then
/// fsync the directory so the rename itself survives a crash.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try bytes.withUnsafeBytes { try write(UnsafeRawBufferPointer($0), to: url) }
    }

    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write($0, to: url) }
    }

    public static func write(_ buffer: UnsafeRawBufferPointer, to url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        let temp = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(directory)", url) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        var offset = 0
        while offset < buffer.count {
            guard let base = buffer.baseAddress else { break }
            let n = Glibc.write(fd, base + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let e = failure("write failed", url)
                close(fd)
                throw e
            }
            offset += n
        }
        guard fsync(fd) == 0 else { let e = failure("fsync failed", url); close(fd); throw e }
        guard close(fd) == 0 else { throw failure("close failed", url) }
        guard rename(temp, url.path) == 0 else { throw failure("rename into place failed", url) }
        ok = true
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 { _ = fsync(dirfd); close(dirfd) }
    }

    private static func failure(_ what: String, _ url: URL) -> NPYError {
        NPYError.io(path: url.path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
