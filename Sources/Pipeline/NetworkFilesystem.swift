import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether a directory is on a network filesystem (by its mount's type in /proc/mounts), whose flock(2) semantics across nodes depend on how
/// it is mounted. The cache's locks (the cache lock and one lock per stage) are flock locks: on a local
/// disk they hold between every process of the machine; on NFS or Lustre only if the mount passes them
/// to the server. One node cannot prove that they do, so `run` and `cache init` say what to check.
public struct NetworkFilesystem: Equatable, Sendable {
    public let name: String
    /// The mount option (or setting) that decides whether locks are cluster-wide.
    public let advice: String

    /// By the type /proc/mounts gives the mount.
    static func classify(type: String) -> NetworkFilesystem? {
        switch type {
        case "nfs", "nfs4":
            return .init(name: "NFS", advice: "the mount option `local_lock` must be `none` (the default) so that flock reaches the server; NFSv3 also needs lockd/statd running")
        case "lustre":
            return .init(name: "Lustre", advice: "the client must mount with `flock` (not `localflock`, which locks per node only, nor `noflock`)")
        case "gpfs":
            return .init(name: "GPFS (IBM Storage Scale)", advice: "GPFS coordinates flock between nodes; check that the cache is on the shared file system, not on node-local scratch")
        case "beegfs":
            return .init(name: "BeeGFS", advice: "set `tuneUseGlobalFileLocks = true` in beegfs-client.conf, or flock is per node")
        case "ceph":
            return .init(name: "CephFS", advice: "check that your client (kernel or ceph-fuse) supports flock")
        case "cifs", "smb3":
            return .init(name: "CIFS/SMB", advice: "the mount must not use `nobrl`, or locks are per client")
        case _ where type.hasPrefix("fuse"):
            return .init(name: "a FUSE filesystem (\(type))", advice: "whether flock reaches other nodes depends on the filesystem behind FUSE")
        default:
            return nil
        }
    }

    /// The mount that holds `path`, from /proc/mounts-formatted text: the longest mount point that is a
    /// prefix of the path, with its type and options.
    public static func mount(of path: String, mounts: String) -> (point: String, type: String, options: String)? {
        var best: (point: String, type: String, options: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { continue }
            let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
            let inside = path == point || path.hasPrefix(point.hasSuffix("/") ? point : point + "/")
            if inside, point.count > (best?.point.count ?? -1) { best = (point, String(fields[2]), String(fields[3])) }
        }
        return best
    }

    /// The network filesystem `path` is on (by `mounts`, /proc/mounts' text), or nil for a local one.
    public static func of(_ path: String, mounts: String) -> (filesystem: NetworkFilesystem, options: String)? {
        guard let m = mount(of: path, mounts: mounts), let fs = classify(type: m.type) else { return nil }
        return (fs, m.options)
    }

    /// The warning to print for a cache at `url`, or nil on a local filesystem.
    public static func warning(for url: URL, mounts: String? = nil) -> String? {
        let path = url.standardizedFileURL.resolvingSymlinksInPath().path
        guard let text = mounts ?? (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)),
              let (fs, options) = of(path, mounts: text) else { return nil }
        return "warning: the cache \(path) is on \(fs.name). Its stage and cache locks are flock(2) locks, and whether they hold "
            + "across nodes depends on the mount: \(fs.advice). This node mounts it with: \(options). "
            + "One node cannot prove that locks work across nodes; check with your administrators before two nodes share it."
    }
}
