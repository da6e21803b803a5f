import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What reading one action record file gave. A record that is there but cannot be used is not the same
/// as no record: `status`, `show` and `verify` say why, and `gc` keeps what it may still refer to.
public enum RecordRead: Sendable {
    case absent
    case record(ActionRecord)
    /// Unreadable file, not JSON, not a record, or a digest that is not one.
    case unreadable(reason: String)
    /// Written by a newer bnrepro in a format this binary does not know: left alone, never rewritten by gc.
    case newer(schemaVersion: Int)

    public var record: ActionRecord? {
        if case .record(let r) = self { return r }
        return nil
    }

    /// Why the record cannot be used, in words, or nil when it can (or is absent).
    public var problem: String? {
        switch self {
        case .absent, .record: return nil
        case .unreadable(let reason): return "record unreadable: \(reason)"
        case .newer(let v):
            return "record written by a newer bnrepro (record version \(v); this binary reads up to \(ActionRecord.currentSchemaVersion))"
        }
    }
}

extension CacheStore {
    func actionURL(_ key: String) -> URL { actionsDirectory.appendingPathComponent("\(key).json") }

    /// The successful record of `key` as it is on disk, whether or not its objects are present.
    public func recordState(_ key: String) -> RecordRead {
        guard Digest.isValid(key) else { return .unreadable(reason: "'\(key)' is not a stage key") }
        return CacheStore.readRecord(actionURL(key))
    }

    /// The successful record of a key, if every object it names is present.
    public func record(_ key: String) -> ActionRecord? {
        guard let record = recordState(key).record else { return nil }
        return record.outputs.values.allSatisfy(has) ? record : nil
    }

    /// The record even if objects are missing (for `show` and `status`).
    public func anyRecord(_ key: String) -> ActionRecord? { recordState(key).record }

    public func failure(_ key: String) -> ActionRecord? {
        guard Digest.isValid(key) else { return nil }
        return CacheStore.readRecord(failuresDirectory.appendingPathComponent("\(key).json")).record
    }

    /// Each stage's latest unsuccessful attempt (failed or interrupted), by stage name.
    public func lastUnsuccessfulAttempts() -> [String: ActionRecord] {
        var latest: [String: ActionRecord] = [:]
        for attempt in allFailureKeys().compactMap(failure) where (latest[attempt.stage]?.finished ?? .distantPast) < attempt.finished {
            latest[attempt.stage] = attempt
        }
        return latest
    }

    /// The stage's latest unsuccessful attempt if it is newer than its last success: what `show` and
    /// `status` report of a stage that is not up to date.
    public func unsuccessfulAttempt(ofStage stage: String, since lastSuccess: Date?) -> ActionRecord? {
        lastUnsuccessfulAttempts()[stage].flatMap { $0.finished > (lastSuccess ?? .distantPast) ? $0 : nil }
    }

    static func readRecord(_ url: URL) -> RecordRead {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return errno == ENOENT ? .absent : .unreadable(reason: FileIO.errnoText("cannot stat")) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .unreadable(reason: "not a regular file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { return .unreadable(reason: "cannot read: \(error.localizedDescription)") }
        return parseRecord(data, expectedKey: String(url.lastPathComponent.dropLast(".json".count)))
    }

    /// A record's bytes, checked as a record file is: a supported format, every digest a digest, and the
    /// key it was stored under (a file name, or a remote's `/ac/<key>`) the key it names.
    public static func parseRecord(_ data: Data, expectedKey: String) -> RecordRead {
        let record: ActionRecord
        do { record = try RecordCoding.decoder().decode(ActionRecord.self, from: data) } catch let newer as NewerRecordFormat {
            return .newer(schemaVersion: newer.schemaVersion)
        } catch {
            return .unreadable(reason: RecordFile.describe(error))
        }
        if let bad = record.invalidDigests.first { return .unreadable(reason: "\(bad) is not a SHA-256 digest") }
        if expectedKey != record.key { return .unreadable(reason: "it names key \(record.key), not its file's") }
        return .record(record)
    }
}

public enum RecordFile {
    /// A decoding error in a line a user can act on ("missing field 'spec'"), not Foundation's dump.
    public static func describe(_ error: Error) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.isEmpty ? "the top level" : "field '" + codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing field '" + (context.codingPath + [key]).map(\.stringValue).joined(separator: ".") + "'"
        case .typeMismatch(_, let context)?: return "\(path(context.codingPath)) has the wrong type"
        case .valueNotFound(_, let context)?: return "\(path(context.codingPath)) is null"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    /// Every 64-hex-digit run in a file's bytes: the objects an unreadable record may still name, which
    /// `gc` keeps rather than guess.
    static func digestLikeTokens(_ data: Data) -> Set<String> {
        var found = Set<String>()
        var run: [UInt8] = []
        for byte in data + [0] {
            if (48...57).contains(byte) || (97...102).contains(byte) { run.append(byte); continue }
            if run.count == 64 { found.insert(String(decoding: run, as: UTF8.self)) }
            run.removeAll(keepingCapacity: true)
        }
        return found
    }
}
