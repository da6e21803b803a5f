import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed file-system call in words a user can act on: the errno's text, and for a full file system
/// (ENOSPC, EDQUOT) that it is full, how many bytes were being written and how much space is left, so
/// that "No space left on device" is never the whole story.
public enum WriteFailure {
    /// `what` (e.g. "write failed"), the errno's text, and the full-disk details when they apply. `path`
    /// is the file written; the free space is that of the file system holding it (or its directory).
    public static func describe(_ what: String, code: Int32, path: String, bytes: Int? = nil) -> String {
        var text = "\(what): \(String(cString: strerror(code)))"
        guard isFull(code) else { return text }
        text += " (the file system is full"
        if let bytes { text += ": \(bytes) bytes were being written" }
        if let free = freeBytes(near: path) { text += (bytes == nil ? ": " : ", ") + "\(free) bytes are free" }
        return text + ")"
    }

    public static func isFull(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }

    /// The bytes an unprivileged writer may still use on the file system of `path`, or of the nearest
    /// directory above it that exists.
    public static func freeBytes(near path: String) -> Int64? {
        var url = URL(fileURLWithPath: path)
        for _ in 0..<64 {
            var fs = statvfs()
            if statvfs(url.path, &fs) == 0 { return Int64(fs.f_bavail) * Int64(fs.f_frsize) }
            guard url.path != "/" else { return nil }
            url.deleteLastPathComponent()
        }
        return nil
    }
}
