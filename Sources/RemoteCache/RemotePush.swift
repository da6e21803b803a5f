import Foundation
import Pipeline

/// `bnrepro push`: the objects of the up-to-date stages' records, then the records. An object already on
/// the remote (HEAD, same size) is not sent again; a record goes up only after every object it names is
/// there, so an interrupted push never leaves a record naming a missing object. A push never replaces a
/// different record of the same key: WebDAV has no conditional PUT, so each record written is read back,
/// and once more when the push ends; of two pushers racing on a key, one record stays and the other
/// pusher reports the conflict.
public struct RemotePush: Sendable {
    public struct Outcome: Sendable {
        public var pushed: [String] = []
        /// Stages whose record the remote already held, byte for byte.
        public var alreadyThere: [String] = []
        /// Stages whose record on the remote differs from ours, which was kept there: why.
        public var conflicts: [(stage: String, reason: String)] = []
        /// Stages not pushed because an object or the record could not be sent: why.
        public var failed: [(stage: String, reason: String)] = []
        public var objectsUploaded = 0
        public var bytesUploaded: Int64 = 0
        public var objectsAlreadyThere = 0
    }

    let remote: Remote
    let backend: any RemoteStore
    let store: CacheStore
    let transfers: Transfers
    let console: Console

    public init(remote: Remote, store: CacheStore, transfers: Transfers = Transfers(), console: Console) {
        self.remote = remote
        backend = remote.store()
        self.store = store
        self.transfers = transfers
        self.console = console
    }

    /// Pushes the records (each with every object it names in this cache), in the order given.
    public func push(_ records: [(stage: String, record: ActionRecord)]) throws -> Outcome {
        guard !remote.readOnly else { throw RemoteError.readOnly(remote: remote.name) }
        var outcome = Outcome()
        guard let first = records.first else { return outcome }
        // One request first, so that a remote that is down or refuses us is one clear error, not one per file.
        _ = try transfers.retrying { try backend.size(of: .action(key: first.record.key)) }
        let objectProblems = try uploadObjects(records.flatMap { $0.record.namedObjects.map(\.digest) }, into: &outcome)
        var toWrite: [(stage: String, record: ActionRecord, data: Data)] = []
        for (stage, record) in records {
            if let bad = record.namedObjects.map(\.digest).first(where: { objectProblems[$0] != nil }), let problem = objectProblems[bad] {
                outcome.failed.append((stage, "\(record.objectName(bad)) (object \(bad.prefix(16))…) was not uploaded: \(problem)"))
                continue
            }
            do { toWrite.append((stage, record, try store.recordData(record.key))) } catch { outcome.failed.append((stage, "\(error)")) }
        }
        let ready = toWrite
        let results = transfers.each(Array(ready.indices)) { [backend, transfers] i -> RecordWrite in
            try RemotePush.write(ready[i].data, key: ready[i].record.key, to: backend, transfers: transfers)
        }
        var written: [Int] = []
        for (i, result) in results.enumerated() {
            switch result {
            case .success(.written): written.append(i)
            case .success(.same): outcome.alreadyThere.append(ready[i].stage)
            case .success(.different(let theirs)): outcome.conflicts.append((ready[i].stage, RemotePush.conflict(theirs, key: ready[i].record.key)))
            case .failure(let error as RemoteError) where error.concernsWholeRemote: throw error
            case .failure(let error): outcome.failed.append((ready[i].stage, "the record was not uploaded: \(error)"))
            }
        }
        // Read back once more at the end: a record another pusher wrote over ours after our first read-back.
        for i in written {
            let now = try transfers.retrying { try backend.read(.action(key: ready[i].record.key)) }
            if now == ready[i].data { outcome.pushed.append(ready[i].stage); continue }
            outcome.conflicts.append((ready[i].stage, "another pusher wrote a different record for this key at the same time; the remote keeps theirs"))
        }
        return outcome
    }

    enum RecordWrite: Sendable {
        case written, same
        /// The remote holds another record for the key (its bytes, when they could be read).
        case different(Data?)
    }

    /// Creates the record unless one is there, then reads back what the remote holds.
    static func write(_ data: Data, key: String, to backend: any RemoteStore, transfers: Transfers) throws -> RecordWrite {
        if let existing = try backend.read(.action(key: key)) { return existing == data ? .same : .different(existing) }
        let created = try backend.create(.action(key: key), data: data)
        let back = try backend.read(.action(key: key))
        if back == data { return created ? .written : .same }
        return .different(back)
    }

    static func conflict(_ theirs: Data?, key: String) -> String {
        guard let theirs, let record = CacheStore.parseRecord(theirs, expectedKey: key).record else {
            return "the remote holds a different record for this key; it was kept, ours was not sent"
        }
        return "the remote holds a different record for this key (computed on \(record.host) at commit \(record.gitCommit ?? "unknown")); "
            + "it was kept, ours was not sent"
    }

    /// HEADs every object, uploads those the remote lacks; why each object that could not be sent failed.
    private func uploadObjects(_ digests: [String], into outcome: inout Outcome) throws -> [String: String] {
        let unique = Array(Set(digests)).sorted()
        let sizes = unique.map { FileIO.regularFileSize(store.objectPath($0)) }
        let present = transfers.each(Array(unique.indices)) { [backend] i -> Bool in
            guard let local = sizes[i] else { return false }
            return try backend.size(of: .object(digest: unique[i])) == local
        }
        var problems: [String: String] = [:]
        var missing: [Int] = []
        for (i, result) in present.enumerated() {
            switch result {
            case .success(true): outcome.objectsAlreadyThere += 1
            case .success(false) where sizes[i] == nil: problems[unique[i]] = "it is not in this cache"
            case .success(false): missing.append(i)
            case .failure(let error as RemoteError) where error.concernsWholeRemote: throw error
            case .failure(let error): problems[unique[i]] = "\(error)"
            }
        }
        let progress = TransferProgress(console: console, label: "push", totalBytes: missing.reduce(0) { $0 + (sizes[$1] ?? 0) })
        defer { progress.end() }
        let uploads = transfers.each(missing) { [backend, store] i -> Void in
            try backend.upload(.object(digest: unique[i]), from: store.objectPath(unique[i])) { progress.update(unique[i], bytes: $0) }
            progress.complete(unique[i], bytes: sizes[i] ?? 0)
        }
        for (i, result) in zip(missing, uploads) {
            switch result {
            case .success:
                outcome.objectsUploaded += 1
                outcome.bytesUploaded += sizes[i] ?? 0
            case .failure(let error as RemoteError) where error.concernsWholeRemote: throw error
            case .failure(let error): problems[unique[i]] = "\(error)"
            }
        }
        return problems
    }
}
