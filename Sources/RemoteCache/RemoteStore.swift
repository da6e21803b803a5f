import Foundation

/// A file on a remote, in the layout of Bazel's HTTP remote cache: action records under `ac/<key>`,
/// objects under `cas/<sha256>`. The same layout on disk is a `file://` remote, and a directory that
/// nginx serves with WebDAV PUT is both at once.
public enum RemotePath: Sendable, Hashable {
    case action(key: String)
    case object(digest: String)

    var relative: String {
        switch self {
        case .action(let key): return "ac/\(key)"
        case .object(let digest): return "cas/\(digest)"
        }
    }
}

/// What a push or pull needs of a remote. Every call is blocking and safe to make from several threads.
public protocol RemoteStore: Sendable {
    /// Where a path lives, for messages (a URL without credentials).
    func location(of path: RemotePath) -> String
    /// The size of the file, or nil when the remote does not have it.
    func size(of path: RemotePath) throws -> Int64?
    /// A small file's bytes (a record), or nil when the remote does not have it.
    func read(_ path: RemotePath) throws -> Data?
    /// Streams the file into `file` (created or truncated); false when the remote does not have it.
    /// `progress` gets the bytes received so far.
    func download(_ path: RemotePath, to file: URL, progress: @escaping @Sendable (Int64) -> Void) throws -> Bool
    /// Uploads a local file; what is at `path` on the remote is then the file, whole.
    func upload(_ path: RemotePath, from file: URL, progress: @escaping @Sendable (Int64) -> Void) throws
    /// Writes `data` at `path` unless something is there already: false when it was (as far as the
    /// server can tell: WebDAV has no conditional PUT, so the caller reads back what it wrote).
    func create(_ path: RemotePath, data: Data) throws -> Bool
}
