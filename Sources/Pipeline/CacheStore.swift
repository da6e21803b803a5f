import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The cache directory: a content-addressed object store plus action specs, records, failure
/// records and, per stage name, a ref to its last successful key (so `status` can say what changed).
///
///     objects/ab/cdef…   read-only files, named by SHA-256
///     specs/<key>.json   what to compute        actions/<key>.json   what was computed
///     failures/<key>.json the last failure      refs/<stage>.json    last successful key of a stage
///     tmp/               work directories of running stages (named with the owner's pid)
///     partials/<stage>/  resumable progress of a stage that has not succeeded yet (partial downloads)
///     quarantine/        objects that failed verification
///     locks/<key>        one worker per stage at a time (see `StageLock`)
///
/// Every digest and key read from a file is checked to be 64 lowercase hex digits before it becomes a
/// path, and objects are read only if they are regular files (never through a symlink).
public struct CacheStore: Sendable {
    public let root: URL
    public var objectsDirectory: URL { root.appendingPathComponent("objects") }
    var actionsDirectory: URL { root.appendingPathComponent("actions") }
    var failuresDirectory: URL { root.appendingPathComponent("failures") }
    var specsDirectory: URL { root.appendingPathComponent("specs") }
    var refsDirectory: URL { root.appendingPathComponent("refs") }
    public var tmpDirectory: URL { root.appendingPathComponent("tmp") }
    var quarantineDirectory: URL { root.appendingPathComponent("quarantine") }

    public init(root: URL) throws {
        self.root = root.standardizedFileURL
        SharedCache.applyGroupUmask(for: self.root)
        for dir in [objectsDirectory, actionsDirectory, failuresDirectory, specsDirectory, refsDirectory, tmpDirectory, quarantineDirectory] {
            try FileIO.createDirectory(dir)
        }
    }

    /// Opens a cache that must already exist and creates nothing in it: for commands that only read a
    /// cache someone else filled (`diff --other-cache`). A directory without objects/ and actions/ is
    /// not a cache, and saying so beats reporting every stage as never run.
    public init(existing root: URL) throws {
        self.root = root.standardizedFileURL
        SharedCache.applyGroupUmask(for: self.root)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: self.root.path, isDirectory: &isDirectory) else {
            throw PipelineError.io(path: self.root.path, reason: "no such directory, so not a bnrepro cache")
        }
        guard isDirectory.boolValue else { throw PipelineError.io(path: self.root.path, reason: "not a directory, so not a bnrepro cache") }
        for dir in [objectsDirectory, actionsDirectory] {
            guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw PipelineError.io(path: self.root.path, reason: "not a bnrepro cache: it has no objects/ and actions/ directories")
            }
        }
    }

    // MARK: objects

    public func objectPath(_ digest: String) -> URL {
        objectsDirectory.appendingPathComponent(String(digest.prefix(2))).appendingPathComponent(String(digest.dropFirst(2)))
    }

    /// Stores a file by content. The file is moved in when it lies in the cache's filesystem
    /// (outputs are written under tmp/), otherwise copied; either way the object appears atomically.
    @discardableResult
    public func put(file url: URL) throws -> OutputRef {
        let (digest, size) = try Digest.sha256(file: url)
        let target = objectPath(digest)
        if FileIO.regularFileSize(target) == size { return OutputRef(digest: digest, size: size) }
        try FileIO.createDirectory(target.deletingLastPathComponent())
        let staging = tmpDirectory.appendingPathComponent(CacheStore.ownedName("object", String(digest.prefix(16))))
        unlink(staging.path)
        var placed = false
        defer { if !placed { unlink(staging.path) } }  // a failed fsync or rename leaves nothing in tmp/
        if link(url.path, staging.path) != 0 {
            do { try FileManager.default.copyItem(at: url, to: staging) } catch {
                throw PipelineError.io(path: url.path, reason: "cannot copy into the store: \(ErrorText.describe(error))")
            }
        }
        try FileIO.fsyncFile(staging)
        chmod(staging.path, 0o444)
        try FileIO.rename(staging, to: target)
        placed = true
        return OutputRef(digest: digest, size: size)
    }

    public func put(data: Data) throws -> OutputRef {
        let temp = tmpDirectory.appendingPathComponent(CacheStore.ownedName("blob", "\(UInt32.random(in: 0...UInt32.max))"))
        try FileIO.atomicWrite(data, to: temp)
        defer { unlink(temp.path) }
        return try put(file: temp)
    }

    /// Cheap presence check (no hashing): what a cached run relies on. A symlink is not an object.
    public func has(_ ref: OutputRef) -> Bool {
        Digest.isValid(ref.digest) && FileIO.regularFileSize(objectPath(ref.digest)) == ref.size
    }

    public func allObjects() -> [(digest: String, size: Int64)] {
        let fm = FileManager.default
        var result: [(String, Int64)] = []
        for prefix in (try? fm.contentsOfDirectory(atPath: objectsDirectory.path)) ?? [] where prefix.count == 2 {
            let dir = objectsDirectory.appendingPathComponent(prefix)
            for rest in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] {
                let digest = prefix + rest
                if Digest.isValid(digest) { result.append((digest, FileIO.linkSize(dir.appendingPathComponent(rest)) ?? 0)) }
            }
        }
        return result
    }

    public func removeObject(_ digest: String) {
        unlink(objectPath(digest).path)
    }

    // MARK: specs, records, refs

    public func writeSpec(_ spec: ActionSpec) throws {
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(spec), to: specsDirectory.appendingPathComponent("\(spec.key).json"))
    }

    public func spec(_ key: String) throws -> ActionSpec {
        guard Digest.isValid(key) else { throw PipelineError.unreadable(file: key, reason: "not a stage key (64 lowercase hex digits)") }
        let url = specsDirectory.appendingPathComponent("\(key).json")
        guard let data = try? Data(contentsOf: url) else {
            throw PipelineError.unreadable(file: url.path, reason: "no action spec for key \(key)")
        }
        let spec: ActionSpec
        do { spec = try RecordCoding.decoder().decode(ActionSpec.self, from: data) } catch {
            throw PipelineError.unreadable(file: url.path, reason: "malformed action spec: \(RecordFile.describe(error))")
        }
        if let bad = spec.invalidDigests.first { throw PipelineError.unreadable(file: url.path, reason: "\(bad) is not a SHA-256 digest") }
        guard spec.key == key else { throw PipelineError.unreadable(file: url.path, reason: "it is the spec of key \(spec.key)") }
        return spec
    }

    /// Writes a record; callers store every object it names first.
    public func write(_ record: ActionRecord) throws {
        let dir = record.status == .succeeded ? actionsDirectory : failuresDirectory
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(record), to: dir.appendingPathComponent("\(record.key).json"))
        if record.status == .succeeded {
            unlink(failuresDirectory.appendingPathComponent("\(record.key).json").path)
            removeOrigin(record.key)  // computed here now, whatever a remote once said
            try markLatest(key: record.key, ofStage: record.stage)
        }
    }

    /// Points the stage's ref at `key`: the run it was last brought up to date by, computed or cached,
    /// so that `status`, `show` and `cat` compare against what the user last ran. Written only on change,
    /// so a cached run stays cheap.
    public func markLatest(key: String, ofStage stage: String) throws {
        guard lastKey(ofStage: stage) != key else { return }
        try FileIO.atomicWrite(Data(key.utf8), to: refsDirectory.appendingPathComponent(stage))
    }

    public func removeRecord(_ key: String) { unlink(actionURL(key).path) }

    /// Nil also when the ref does not hold a key: it becomes a path.
    public func lastKey(ofStage stage: String) -> String? {
        (try? String(contentsOf: refsDirectory.appendingPathComponent(stage), encoding: .utf8))
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { Digest.isValid($0) ? $0 : nil }
    }

    public func allRecordKeys() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: actionsDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }

    public func allFailureKeys() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: failuresDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }

    public func allSpecKeys() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: specsDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }

    public func removeSpec(_ key: String) { unlink(specsDirectory.appendingPathComponent("\(key).json").path) }
    public func removeFailure(_ key: String) { unlink(failuresDirectory.appendingPathComponent("\(key).json").path) }

    // MARK: work directories

    /// Where a stage keeps resumable progress between failed runs (see `StageContext.partialsDirectory`).
    public func partialsDirectory(forStage stage: String) -> URL {
        root.appendingPathComponent("partials").appendingPathComponent(stage)
    }

    /// `<what>~<host>~<pid>~<detail>`: who owns a file under tmp/, so that a later run can tell a dead
    /// run's leftovers from a live one's, and never judges a process on another machine of a cluster
    /// that shares the cache. (`~` appears in neither host nor stage names.)
    static func ownedName(_ what: String, _ detail: String) -> String {
        "\(what)~\(ProcessInfo.processInfo.hostName)~\(getpid())~\(detail)"
    }

    /// A fresh directory under tmp/ for one stage's outputs and scratch, named for its owner.
    public func makeWorkDirectory(_ label: String) throws -> URL {
        let url = tmpDirectory.appendingPathComponent(CacheStore.ownedName("work", "\(label.prefix(24))~\(UInt32.random(in: 0...UInt32.max))"))
        try FileIO.createDirectory(url)
        return url
    }

    /// A zombie counts as dead: in containers nobody may reap an orphaned worker.
    static func isAlive(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return !stat[close...].hasPrefix(") Z")
    }

    /// Removes what killed runs on this host left under tmp/, and this process's own entries when it is
    /// about to exit (`includingOwn`).
    public func removeDeadWork(includingOwn: Bool = false) {
        let fm = FileManager.default
        let host = ProcessInfo.processInfo.hostName
        for name in (try? fm.contentsOfDirectory(atPath: tmpDirectory.path)) ?? [] {
            let parts = name.split(separator: "~", omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[1] == host, let pid = Int32(parts[2]) else { continue }
            if pid == getpid() ? includingOwn : !CacheStore.isAlive(pid) {
                try? fm.removeItem(at: tmpDirectory.appendingPathComponent(name))
            }
        }
    }
}
