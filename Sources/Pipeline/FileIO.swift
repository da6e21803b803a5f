import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Durable file operations: a write is a temp file in the target's directory, fsync, rename, fsync of
/// the directory; a reader sees the old file or the new one, never half of either.
public enum FileIO {
    public static func atomicWrite(_ data: Data, to url: URL, mode: mode_t = 0o644) throws {
        let dir = url.deletingLastPathComponent()
        try createDirectory(dir)
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ioError(temp, "cannot create") }
        var ok = false
        defer { if !ok { unlink(temp.path) } }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; close(fd); throw ioError(temp, "write failed") }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { close(fd); throw ioError(temp, "fsync failed") }
        close(fd)
        try rename(temp, to: url)
        ok = true
    }

    /// Moves a finished file into place atomically and makes the directory entry durable.
    public static func rename(_ from: URL, to: URL) throws {
        guard Glibc.rename(from.path, to.path) == 0 else { throw ioError(to, "cannot rename \(from.path) into place") }
        syncDirectory(to.deletingLastPathComponent())
    }

    public static func fsyncFile(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError(url, "cannot open") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError(url, "fsync failed") }
    }

    public static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    public static func createDirectory(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw PipelineError.io(path: url.path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }

    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    public static func size(_ url: URL) -> Int64? {
        var st = stat()
        return stat(url.path, &st) == 0 ? Int64(st.st_size) : nil
    }

    static func ioError(_ url: URL, _ what: String) -> PipelineError {
        PipelineError.io(path: url.path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
