import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes bytes so that readers see the old file or the whole new one, never a torn one: a temp file
/// in the same directory, fsync, rename, then fsync of the directory so the rename survives a crash.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to url: URL) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PlotError.io(path: tmp, operation: "create", errno: errno) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf -> Int in
                guard let base = buf.baseAddress else { return 0 }
                return Glibc.write(fd, base + offset, buf.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno; close(fd); throw PlotError.io(path: tmp, operation: "write", errno: e)
            }
            offset += n
        }
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw PlotError.io(path: tmp, operation: "fsync", errno: e) }
        guard close(fd) == 0 else { throw PlotError.io(path: tmp, operation: "close", errno: errno) }
        guard rename(tmp, path) == 0 else { throw PlotError.io(path: path, operation: "rename into", errno: errno) }
        ok = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
