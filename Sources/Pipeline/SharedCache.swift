import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A cache that a Unix group shares (`bnrepro cache init DIR --group G`): its directories are owned by
/// the group and setgid, so everything created below them belongs to the group too; every process that
/// opens it sets its umask to 002, so what it writes is group-writable (records, refs, locks) or
/// group-readable (objects, which are read-only for everyone). A file `shared.json` at the top marks it.
public enum SharedCache {
    public static let markerName = "shared.json"

    public struct Marker: Codable, Equatable, Sendable {
        public let group: String
        public let gid: UInt32
    }

    /// The marker of a shared cache, or nil for a private one.
    public static func marker(in root: URL) -> Marker? {
        guard let data = try? Data(contentsOf: root.appendingPathComponent(markerName)) else { return nil }
        return try? JSONDecoder().decode(Marker.self, from: data)
    }

    /// Called by every writer that opens the cache: in a shared cache new files must be group-writable,
    /// whatever umask the user's shell has (a 022 umask would lock the group out of records and locks).
    static func applyGroupUmask(for root: URL) {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(markerName).path) { umask(0o002) }
    }

    /// Creates (or converts) `root` as a cache shared by `group`, a group name or number. An existing
    /// directory must be empty or a bnrepro cache; converting one gives every existing file and
    /// directory to the group.
    @discardableResult
    public static func initialize(_ root: URL, group: String) throws -> Marker {
        let root = root.standardizedFileURL
        guard let gid = groupID(group) else {
            throw PipelineError.io(path: root.path, reason: "no group '\(group)' on this machine (`getent group` lists them)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw PipelineError.io(path: root.path, reason: "exists and is not a directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
            guard entries.isEmpty || (try? CacheStore(existing: root)) != nil else {
                throw PipelineError.io(path: root.path, reason: "is neither empty nor a bnrepro cache; refusing to give its files to group '\(group)'")
            }
        } else {
            try FileIO.createDirectory(root)
        }
        try share(root, gid: gid, directory: true)
        let marker = Marker(group: group, gid: gid)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.atomicWrite(try encoder.encode(marker), to: root.appendingPathComponent(markerName))
        // Opened as every writer opens it (umask 002), the store creates its directories under the setgid root.
        _ = try CacheStore(root: root)
        // Everything there, the marker and a converted cache's files included, joins the group.
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey, .isSymbolicLinkKey]) {
            for case let url as URL in walker {
                let values = try? url.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey])
                if values?.isSymbolicLink == true { continue }
                try share(url, gid: gid, directory: values?.isDirectory == true)
            }
        }
        return marker
    }

    /// Directories: group `gid`, rwxrwsr-x. Files: group `gid`, group-readable, and group-writable
    /// unless read-only for everyone (objects stay r--r--r--).
    static func share(_ url: URL, gid: UInt32, directory: Bool) throws {
        guard chown(url.path, uid_t.max, gid) == 0 else {
            throw FileIO.ioError(url, "cannot give it to group \(gid) (you must be a member of the group, or root)")
        }
        var st = stat()
        guard lstat(url.path, &st) == 0 else { throw FileIO.ioError(url, "cannot stat") }
        let mode: mode_t
        if directory {
            mode = 0o2775
        } else {
            let readOnly = st.st_mode & 0o222 == 0
            mode = (st.st_mode & 0o777) | 0o040 | (readOnly ? 0 : 0o020)
        }
        guard chmod(url.path, mode) == 0 else { throw FileIO.ioError(url, "cannot set its permissions") }
    }

    static func groupID(_ group: String) -> UInt32? {
        if let number = UInt32(group), getgrgid(number) != nil { return number }
        guard let entry = getgrnam(group) else { return nil }
        return entry.pointee.gr_gid
    }
}
