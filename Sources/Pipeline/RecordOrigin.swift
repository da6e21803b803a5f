import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a record in this cache came from when it was not computed here: the remote it was pulled from.
/// Kept beside the record (`origins/<key>.json`), not inside it, so that the record's bytes stay those the
/// remote served: pushing it on is then byte-for-byte the same record, and a conflict is a real one.
/// A record computed here afterwards removes its origin (`CacheStore.write`).
public struct RecordOrigin: Codable, Sendable, Equatable {
    /// The remote's name in remotes.json, and its URL without credentials.
    public let remote: String
    public let url: String
    public let pulled: Date

    public init(remote: String, url: String, pulled: Date = Date()) {
        self.remote = remote
        self.url = url
        self.pulled = pulled
    }
}

extension CacheStore {
    var originsDirectory: URL { root.appendingPathComponent("origins") }

    public func origin(ofKey key: String) -> RecordOrigin? {
        guard Digest.isValid(key), let data = try? Data(contentsOf: originsDirectory.appendingPathComponent("\(key).json")) else { return nil }
        return try? RecordCoding.decoder().decode(RecordOrigin.self, from: data)
    }

    public func removeOrigin(_ key: String) { unlink(originsDirectory.appendingPathComponent("\(key).json").path) }

    /// The record file's bytes as stored, for sending elsewhere unchanged.
    public func recordData(_ key: String) throws -> Data {
        guard Digest.isValid(key) else { throw PipelineError.unreadable(file: key, reason: "not a stage key (64 lowercase hex digits)") }
        do { return try Data(contentsOf: actionURL(key)) } catch {
            throw PipelineError.unreadable(file: actionURL(key).path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    /// Stores a record fetched from a remote as the bytes it came as (checked by the caller with
    /// `CacheStore.parseRecord`), with its origin written first: a reader never sees a pulled record
    /// that looks computed here. The caller stores the objects it needs first, as for any record.
    public func adoptPulledRecord(_ data: Data, _ record: ActionRecord, origin: RecordOrigin) throws {
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(origin), to: originsDirectory.appendingPathComponent("\(record.key).json"))
        try FileIO.atomicWrite(data, to: actionURL(record.key))
        unlink(failuresDirectory.appendingPathComponent("\(record.key).json").path)
    }

    /// A succeeded record that came from a remote and whose objects are not all here: it still says what
    /// the stage's outputs are, so the keys of later stages chain through it, and its bytes are fetched
    /// (or computed) only when a stage that runs here reads them.
    public func pulledRecordWithoutObjects(_ key: String) -> ActionRecord? {
        guard origin(ofKey: key) != nil, let record = anyRecord(key), record.status == .succeeded else { return nil }
        return record
    }
}
