import AtomicIO
import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// A remote on a shared filesystem (`file:///proj/bn/remote`): `ac/` and `cas/` directories. Files appear
/// atomically (written beside their name, then renamed), and a record is created with link(2), which
/// fails when the name exists: two pushers of one key cannot both succeed, unlike over WebDAV.
public struct FileRemoteStore: RemoteStore {
    public let root: URL

    public init(root: URL) { self.root = root.standardizedFileURL }

    func url(_ path: RemotePath) -> URL { root.appendingPathComponent(path.relative) }

    public func location(of path: RemotePath) -> String { url(path).path }

    public func size(of path: RemotePath) throws -> Int64? {
        var st = stat()
        guard lstat(url(path).path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw RemoteError.local(path: url(path).path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw RemoteError.local(path: url(path).path, reason: "not a regular file") }
        return Int64(st.st_size)
    }

    public func read(_ path: RemotePath) throws -> Data? {
        guard try size(of: path) != nil else { return nil }
        do { return try Data(contentsOf: url(path)) } catch {
            throw RemoteError.local(path: url(path).path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    public func download(_ path: RemotePath, to file: URL, progress: @escaping @Sendable (Int64) -> Void) throws -> Bool {
        guard try size(of: path) != nil else { return false }
        unlink(file.path)
        do { try FileManager.default.copyItem(at: url(path), to: file) } catch {
            throw RemoteError.local(path: url(path).path, reason: "cannot copy it to \(file.path): \(ErrorText.describe(error))")
        }
        progress(FileIO.size(file) ?? 0)
        return true
    }

    public func upload(_ path: RemotePath, from file: URL, progress: @escaping @Sendable (Int64) -> Void) throws {
        let target = url(path)
        let temp = try prepare(target)
        defer { unlink(temp.path) }
        do { try FileManager.default.copyItem(at: file, to: temp) } catch {
            throw RemoteError.local(path: target.path, reason: "cannot copy \(file.path) there: \(ErrorText.describe(error))")
        }
        do {
            try FileIO.fsyncFile(temp)
            try FileIO.rename(temp, to: target)
        } catch { throw RemoteError.local(path: target.path, reason: "\(error)") }
        progress(FileIO.size(target) ?? 0)
    }

    public func create(_ path: RemotePath, data: Data) throws -> Bool {
        let target = url(path)
        let temp = try prepare(target)
        defer { unlink(temp.path) }
        do { try AtomicFile.write(data, to: temp, mode: 0o664) } catch { throw RemoteError.local(path: target.path, reason: "\(error)") }
        if link(temp.path, target.path) == 0 {
            do { try AtomicFile.syncDirectory(target.deletingLastPathComponent()) } catch {
                throw RemoteError.local(path: target.path, reason: "created, but its directory could not be synced: \(error)")
            }
            return true
        }
        if errno == EEXIST { return false }
        throw RemoteError.local(path: target.path, reason: "cannot create it: \(String(cString: strerror(errno)))")
    }

    /// The directory made, and a fresh temporary name beside the target (same filesystem, so rename
    /// and link cannot copy), hidden from the layout by its leading dot.
    private func prepare(_ target: URL) throws -> URL {
        do { try FileIO.createDirectory(target.deletingLastPathComponent()) } catch {
            throw RemoteError.local(path: target.path, reason: "\(error)")
        }
        return target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.hostName).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
    }
}
