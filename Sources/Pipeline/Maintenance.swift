import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `gc` and `verify`: the store's housekeeping.
public struct Maintenance: Sendable {
    public let store: CacheStore

    public init(store: CacheStore) { self.store = store }

    public struct Collection: Sendable {
        public var keptRecords = 0
        public var removedRecords: [String] = []
        public var removedObjects: [(digest: String, size: Int64)] = []
        public var removedBytes: Int64 { removedObjects.reduce(0) { $0 + $1.size } }
        /// Undecodable records kept (without `removeUnreadable`), and those removed (with it).
        public var keptUnreadable: [String] = []
        public var removedUnreadable: [String] = []
        /// Records in a newer format: always kept, with every object they may name.
        public var keptNewer: [String] = []
        /// Readable records kept only because they may depend on a stage whose record is unreadable.
        public var keptDownstream = 0
        /// A kept record whose bytes could not be read at all: no object can be proven unreachable.
        public var objectsKeptWholesale = false
        /// Lock files of stages no worker held (`CacheStore.removeIdleLocks`).
        public var removedLocks = 0
    }

    /// Records reachable from the pipeline under any of its profiles are kept, with every object they
    /// name; everything else goes. What an unusable record may reach cannot be known, so it is kept:
    /// the record itself, every digest-like string in its bytes, and the records of stages downstream
    /// of it (their keys depend on its outputs). `removeUnreadable` (gc --unreadable) drops undecodable
    /// records instead; a record of a newer format is never dropped.
    public func collectGarbage(pipelines: [ResolvedPipeline], dryRun: Bool, removeUnreadable: Bool = false) -> Collection {
        var reachable = Set<String>()
        var downstream = Set<String>()
        for pipeline in pipelines {
            var blocked = Set<String>()
            for (stage, state) in StatusReport(pipeline: pipeline, store: store).states() {
                switch state {
                case .upToDate(let key): reachable.insert(key)
                case .unreadable(let key, _):
                    if case .newer = store.recordState(key) { blocked.insert(stage.name) } else if !removeUnreadable { blocked.insert(stage.name) }
                case .neverRun, .stale: if stage.deps.contains(where: blocked.contains) { blocked.insert(stage.name) }
                }
            }
            downstream.formUnion(blocked)
        }
        var result = Collection()
        var keptKeys = Set<String>()
        var keepObjects = Set<String>()
        for key in store.allRecordKeys() {
            var keep = reachable.contains(key)
            switch store.recordState(key) {
            case .absent: continue
            case .record(let record):
                if !keep && downstream.contains(record.stage) { keep = true; result.keptDownstream += 1 }
                if keep { keepObjects.formUnion(record.objectDigests) }
            case .newer:
                keep = true
                result.keptNewer.append(key)
            case .unreadable:
                keep = !removeUnreadable
                if keep { result.keptUnreadable.append(key) } else { result.removedUnreadable.append(key) }
            }
            if keep, store.recordState(key).record == nil {
                if let bytes = try? Data(contentsOf: store.actionURL(key)) { keepObjects.formUnion(RecordFile.digestLikeTokens(bytes)) }
                else { result.objectsKeptWholesale = true }
            }
            if keep { keptKeys.insert(key) } else {
                result.removedRecords.append(key)
                if !dryRun { store.removeRecord(key) }
            }
        }
        result.keptRecords = keptKeys.count
        result.removedLocks = store.removeIdleLocks(dryRun: dryRun)
        if !result.objectsKeptWholesale {
            for object in store.allObjects() where !keepObjects.contains(object.digest) {
                result.removedObjects.append(object)
                if !dryRun { store.removeObject(object.digest) }
            }
        }
        if !dryRun {
            for key in store.allFailureKeys() where !keptKeys.contains(key) && !reachable.contains(key) { store.removeFailure(key) }
            for key in store.allSpecKeys() where !keptKeys.contains(key) && !reachable.contains(key) { store.removeSpec(key) }
            // An audit is a note about one result: it goes with the result's record.
            for key in store.allAuditKeys() where !keptKeys.contains(key) && !reachable.contains(key) { store.removeAudit(key) }
        }
        return result
    }
}
