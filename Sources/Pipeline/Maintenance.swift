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
    }

    /// Records reachable from the pipeline under any of its profiles: those are kept, with every
    /// object they name; everything else goes.
    public func collectGarbage(pipelines: [ResolvedPipeline], dryRun: Bool) -> Collection {
        var keepKeys = Set<String>()
        for pipeline in pipelines {
            for (_, state) in StatusReport(pipeline: pipeline, store: store).states() {
                if case .upToDate(let key) = state { keepKeys.insert(key) }
            }
        }
        var keepObjects = Set<String>()
        for key in keepKeys { store.anyRecord(key).map { keepObjects.formUnion($0.objectDigests) } }
        var result = Collection()
        result.keptRecords = keepKeys.count
        for key in store.allRecordKeys() where !keepKeys.contains(key) {
            result.removedRecords.append(key)
            if !dryRun { store.removeRecord(key) }
        }
        for object in store.allObjects() where !keepObjects.contains(object.digest) {
            result.removedObjects.append(object)
            if !dryRun { store.removeObject(object.digest) }
        }
        if !dryRun {
            for key in store.allFailureKeys() where !keepKeys.contains(key) { store.removeFailure(key) }
            for key in store.allSpecKeys() where !keepKeys.contains(key) { store.removeSpec(key) }
        }
        return result
    }

    public struct Verification: Sendable {
        public var checked = 0
        public var bytes: Int64 = 0
        public var corrupt: [String] = []
        /// Stages whose records name a corrupt object: they are stale now and rerun next time.
        public var affectedStages: [String] = []
    }

    /// Re-hashes every object; a mismatch is quarantined, which makes the records naming it stale.
    public func verify(progress: (Int, Int) -> Void = { _, _ in }) throws -> Verification {
        var result = Verification()
        let objects = store.allObjects()
        for (i, object) in objects.enumerated() {
            progress(i, objects.count)
            result.checked += 1
            result.bytes += object.size
            if try !store.verify(object.digest) { result.corrupt.append(object.digest) }
        }
        if !result.corrupt.isEmpty {
            let bad = Set(result.corrupt)
            for key in store.allRecordKeys() {
                guard let record = store.anyRecord(key) else { continue }
                if record.objectDigests.contains(where: bad.contains) { result.affectedStages.append(record.stage) }
            }
        }
        return result
    }
}
