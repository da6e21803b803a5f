import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Reads a remote into a cache, trusting nothing that comes back: a record is used only if it parses at a
/// supported schema version, names valid digests and the key it was asked for; an object enters the
/// cache only once its bytes hash to its name. Objects are stored before the records that name them,
/// each atomically, so an interrupted pull leaves a consistent cache, and the same pull again finishes.
struct RemoteFetcher: Sendable {
    enum Lookup {
        case found(ActionRecord, Data)
        case absent
        /// There, but not usable: why.
        case unusable(String)
    }

    let remote: Remote
    let backend: any RemoteStore
    let store: CacheStore
    let transfers: Transfers

    init(remote: Remote, store: CacheStore, transfers: Transfers) {
        self.remote = remote
        backend = remote.store()
        self.store = store
        self.transfers = transfers
    }

    func lookUp(key: String) throws -> Lookup {
        guard let data = try transfers.retrying({ try backend.read(.action(key: key)) }) else { return .absent }
        let read = CacheStore.parseRecord(data, expectedKey: key)
        guard let record = read.record else { return .unusable(read.problem ?? "not a record") }
        guard record.status == .succeeded else { return .unusable("it records a failure") }
        return .found(record, data)
    }

    /// Downloads the objects not already here, `transfers.jobs` at once, each checked against its digest
    /// before it is stored. Returns why each object that could not be had is missing, by digest. An error
    /// that concerns the remote as a whole (unreachable, refused credentials, untrusted certificate) is
    /// thrown instead.
    func fetch(_ objects: [(digest: String, size: Int64?)], console: Console, label: String) throws -> [String: String] {
        let wanted = Dictionary(objects.map { ($0.digest, $0.size) }, uniquingKeysWith: { a, _ in a })
            .filter { FileIO.regularFileSize(store.objectPath($0.key)) == nil }
        guard !wanted.isEmpty else { return [:] }
        let scratch = try store.makeWorkDirectory(label)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let progress = TransferProgress(console: console, label: label, totalBytes: wanted.values.reduce(0) { $0 + ($1 ?? 0) })
        defer { progress.end() }
        let digests = wanted.keys.sorted()
        let results = transfers.each(digests) { [backend, store] digest -> String? in
            let temp = scratch.appendingPathComponent(digest)
            defer { unlink(temp.path) }
            let found = try backend.download(.object(digest: digest), to: temp) { progress.update(digest, bytes: $0) }
            progress.complete(digest, bytes: found ? FileIO.size(temp) ?? 0 : 0)
            guard found else { return "missing on the remote (\(backend.location(of: .object(digest: digest))))" }
            let (actual, _) = try Digest.sha256(file: temp)
            guard actual == digest else {
                return "corrupt on the remote: its bytes hash to \(actual.prefix(16))…, not to its name; refused (\(backend.location(of: .object(digest: digest))))"
            }
            try store.put(file: temp)
            return nil
        }
        return try problems(digests, results)
    }

    /// Which of the objects the remote does not have (HEAD only, nothing downloaded), by digest.
    func checkPresent(_ digests: [String]) throws -> [String: String] {
        let unique = Array(Set(digests)).sorted()
        let results = transfers.each(unique) { [backend] digest -> String? in
            try backend.size(of: .object(digest: digest)) == nil ? "missing on the remote (\(backend.location(of: .object(digest: digest))))" : nil
        }
        return try problems(unique, results)
    }

    /// Stores a checked record as it came, with its origin.
    func adopt(_ record: ActionRecord, data: Data) throws {
        try store.adoptPulledRecord(data, record, origin: RecordOrigin(remote: remote.name, url: remote.url.absoluteString))
    }

    private func problems(_ digests: [String], _ results: [Result<String?, Error>]) throws -> [String: String] {
        var found: [String: String] = [:]
        for (digest, result) in zip(digests, results) {
            switch result {
            case .success(nil): continue
            case .success(let problem?): found[digest] = problem
            case .failure(let error):
                if let remoteError = error as? RemoteError, remoteError.concernsWholeRemote { throw remoteError }
                found[digest] = "\(error)"
            }
        }
        return found
    }
}

extension RemoteError {
    /// An error no other file of the same remote would escape: stop instead of reporting it per file.
    var concernsWholeRemote: Bool {
        switch self {
        case .unreachable, .untrustedCertificate, .unauthorized, .readOnly, .noRemote, .unknownRemote, .badConfig: return true
        default: return false
        }
    }
}

extension ActionRecord {
    /// Every object the record names with its size where the record gives one (the log's is not).
    var namedObjects: [(digest: String, size: Int64?)] {
        outputs.values.map { ($0.digest, Optional($0.size)) } + (log.map { [($0, nil)] } ?? [])
    }

    /// What a report calls an object of this record: "output 'x.npy'" or "its log".
    func objectName(_ digest: String) -> String {
        if let name = outputs.first(where: { $0.value.digest == digest })?.key { return "output '\(name)'" }
        return "its log"
    }
}
