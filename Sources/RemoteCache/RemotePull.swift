import Foundation
import Pipeline

/// `bnrepro pull`: the records of the targets' whole closure, since each stage's key chains through the
/// outputs of the stages before it, but the objects only of the stages asked for. Pulling the figures
/// downloads the figures, not the data set their keys chain through; the other records are kept with
/// their objects left on the remote (each checked to be there), and `run` fetches or computes those only
/// if a stage that runs here reads them.
public struct RemotePull: Sendable {
    public struct Outcome: Sendable {
        /// Stages whose record was pulled with its objects / as a record only.
        public var pulled: [String] = []
        public var recordsOnly: [String] = []
        /// Stages already in this cache.
        public var local: [String] = []
        /// Stages the remote has no record of (or whose key is unknown, since a stage before it is missing).
        public var absent: [String] = []
        /// Stages whose record was not used, and why (named object missing or corrupt, unreadable record).
        public var skipped: [(stage: String, reason: String)] = []
        public var objectsDownloaded = 0
        public var bytesDownloaded: Int64 = 0
    }

    let fetcher: RemoteFetcher
    let console: Console

    public init(remote: Remote, store: CacheStore, transfers: Transfers = Transfers(), console: Console) {
        fetcher = RemoteFetcher(remote: remote, store: store, transfers: transfers)
        self.console = console
    }

    /// `stages` in topological order (a closure); `withObjects` the names whose objects are wanted here.
    public func pull(_ pipeline: ResolvedPipeline, stages: [ResolvedStage], withObjects: Set<String>) throws -> Outcome {
        let store = fetcher.store
        var outcome = Outcome()
        var outputs: [String: [String: OutputRef]] = [:]
        var fetched: [(stage: ResolvedStage, record: ActionRecord, data: Data?)] = []
        for stage in stages {
            guard let spec = pipeline.actionSpec(for: stage, outputs: outputs) else {
                outcome.absent.append(stage.name)
                continue
            }
            if let record = store.record(spec.key) ?? store.pulledRecordWithoutObjects(spec.key) {
                outputs[stage.name] = record.outputs
                if store.record(spec.key) != nil || !withObjects.contains(stage.name) { outcome.local.append(stage.name); continue }
                fetched.append((stage, record, nil))  // here as a record only, and now its objects are wanted
                continue
            }
            switch try fetcher.lookUp(key: spec.key) {
            case .absent: outcome.absent.append(stage.name)
            case .unusable(let why): outcome.skipped.append((stage.name, "its record on the remote cannot be used: \(why)"))
            case .found(let record, let data):
                outputs[stage.name] = record.outputs
                fetched.append((stage, record, data))
            }
        }
        let wanted = fetched.filter { withObjects.contains($0.stage.name) }
        let objects = wanted.flatMap(\.record.namedObjects)
        let before = Set(store.allObjects().map(\.digest))
        let downloadProblems = try fetcher.fetch(objects, console: console, label: "pull")
        let presenceProblems = try fetcher.checkPresent(fetched.filter { !withObjects.contains($0.stage.name) && $0.data != nil }
                                                            .flatMap { $0.record.namedObjects.map(\.digest) })
        for object in Set(objects.map(\.digest)) where !before.contains(object) && downloadProblems[object] == nil {
            outcome.objectsDownloaded += 1
            outcome.bytesDownloaded += FileIO.size(store.objectPath(object)) ?? 0
        }
        // Records after their objects, in topological order: a record enters the cache only once every
        // object it needs here is in it, checked.
        let problems = downloadProblems.merging(presenceProblems) { a, _ in a }
        for (stage, record, data) in fetched {
            if let bad = record.namedObjects.map(\.digest).first(where: { problems[$0] != nil }), let problem = problems[bad] {
                outcome.skipped.append((stage.name, "\(record.objectName(bad)) (object \(bad.prefix(16))…) is \(problem)"))
                continue
            }
            if let data { try fetcher.adopt(record, data: data) }
            if withObjects.contains(stage.name) { outcome.pulled.append(stage.name) } else { outcome.recordsOnly.append(stage.name) }
        }
        return outcome
    }
}
