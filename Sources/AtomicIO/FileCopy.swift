import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain file copy that says why it failed: the errno's text and the file (FileManager's copy reports
/// only "The operation could not be completed", which hides a full disk).
public enum FileCopy {
    /// Copies `source` into a new file `target` (which must not exist) with `mode`; on failure the
    /// partial target is removed.
    public static func copy(_ source: URL, to target: URL, mode: mode_t = 0o644) throws {
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("cannot open it to read", source) }
        defer { close(input) }
        let output = open(target.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw failure("cannot create it", target) }
        var ok = false
        defer { if !ok { unlink(target.path) } }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var copied = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = failure("read failed", source)
                close(output)
                throw e
            }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, n - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    let e = failure("write failed", target, bytes: copied + n)
                    close(output)
                    throw e
                }
                offset += written
            }
            copied += n
        }
        guard close(output) == 0 else { throw failure("close failed", target, bytes: copied) }
        ok = true
    }

    private static func failure(_ what: String, _ url: URL, bytes: Int? = nil) -> AtomicFile.Failure {
        AtomicFile.Failure(path: url.path, message: WriteFailure.describe(what, code: errno, path: url.path, bytes: bytes))
    }
}
