import AtomicIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The store's file operations, with errors as `PipelineError`s. Writes go through `AtomicFile`: a
/// reader sees the old file or the new one, never half of either.
public enum FileIO {
    public static func atomicWrite(_ data: Data, to url: URL, mode: mode_t = 0o666) throws {
        try createDirectory(url.deletingLastPathComponent())
        do { try AtomicFile.write(data, to: url, mode: mode) } catch let f as AtomicFile.Failure {
            throw PipelineError.io(path: f.path, reason: f.message)
        }
    }

    /// Moves a finished file into place atomically and makes the directory entry durable.
    public static func rename(_ from: URL, to: URL) throws {
        do { try AtomicFile.rename(from, to: to) } catch let f as AtomicFile.Failure {
            throw PipelineError.io(path: f.path, reason: f.message)
        }
    }

    public static func fsyncFile(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError(url, "cannot open") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError(url, "fsync failed") }
    }

    /// `mkdir -p`, with the errno of the mkdir that failed (Foundation's error would hide it).
    public static func createDirectory(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        let parent = url.deletingLastPathComponent()
        if parent.path != url.path { try createDirectory(parent) }
        guard mkdir(url.path, 0o777) == 0 || errno == EEXIST else {
            throw PipelineError.io(path: url.path, reason: errnoText("cannot create directory", path: url.path))
        }
    }

    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    public static func size(_ url: URL) -> Int64? {
        var st = stat()
        return stat(url.path, &st) == 0 ? Int64(st.st_size) : nil
    }

    /// The size of a regular file, not following a symlink: nil for anything else.
    public static func regularFileSize(_ url: URL) -> Int64? {
        var st = stat()
        return lstat(url.path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
    }

    /// The size of the directory entry itself (a symlink's own size, not its target's).
    public static func linkSize(_ url: URL) -> Int64? {
        var st = stat()
        return lstat(url.path, &st) == 0 ? Int64(st.st_size) : nil
    }

    static func ioError(_ url: URL, _ what: String) -> PipelineError {
        PipelineError.io(path: url.path, reason: errnoText(what, path: url.path))
    }

    /// `what` and the current errno in words; for a full file system, with the space left near `path`.
    static func errnoText(_ what: String, path: String = "/") -> String {
        WriteFailure.describe(what, code: errno, path: path)
    }
}
