import Foundation

/// `verify`: re-hash every object and read every record, and say what is wrong, each kind of problem
/// on its own (a corrupt object is not an unreadable one, and neither is an unreadable record).
extension Maintenance {
    public struct Verification: Sendable {
        public var checked = 0
        public var bytes: Int64 = 0
        /// Bytes that do not match the digest, or not a regular file (a symlink); quarantined.
        public var corrupt: [(digest: String, reason: String)] = []
        /// Corrupt, but the move to quarantine/ failed: it is still in objects/.
        public var notQuarantined: [(digest: String, reason: String)] = []
        /// Could not be opened or read; left where they are.
        public var unreadable: [(digest: String, reason: String)] = []
        /// Action records that cannot be read or decoded.
        public var unreadableRecords: [(key: String, reason: String)] = []
        /// Action records in a newer format than this binary reads; left alone.
        public var newerRecords: [(key: String, schemaVersion: Int)] = []
        /// Stages whose records name a corrupt object: they are stale now and rerun next time.
        public var affectedStages: [String] = []

        public var isClean: Bool { corrupt.isEmpty && notQuarantined.isEmpty && unreadable.isEmpty && unreadableRecords.isEmpty }
    }

    /// Re-hashes every object; a mismatch is quarantined, which makes the records naming it stale.
    public func verify(progress: (Int, Int) -> Void = { _, _ in }) -> Verification {
        var result = Verification()
        let objects = store.allObjects()
        for (i, object) in objects.enumerated() {
            progress(i, objects.count)
            result.checked += 1
            result.bytes += object.size
            switch store.check(object.digest) {
            case .intact, .missing: break
            case .corrupt(let why, .moved): result.corrupt.append((object.digest, why))
            case .corrupt(let why, .failed(let reason)): result.notQuarantined.append((object.digest, "\(why); \(reason)"))
            case .unreadable(let reason): result.unreadable.append((object.digest, reason))
            }
        }
        var records: [ActionRecord] = []
        for key in store.allRecordKeys().sorted() {
            switch store.recordState(key) {
            case .absent: break
            case .record(let r): records.append(r)
            case .unreadable(let reason): result.unreadableRecords.append((key, reason))
            case .newer(let v): result.newerRecords.append((key, v))
            }
        }
        let bad = Set(result.corrupt.map(\.digest) + result.notQuarantined.map(\.digest))
        for record in records where record.objectDigests.contains(where: bad.contains) { result.affectedStages.append(record.stage) }
        return result
    }
}
