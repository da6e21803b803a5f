import Foundation
import Pipeline

/// `run --pull`: before computing a stage, the runner asks the remote for its key. A record the remote
/// cannot back (an object missing or corrupt, a record that does not parse) is reported and the stage is
/// computed here. A remote that cannot be reached, or refuses the credentials, is reported once and then
/// left alone: the run goes on locally.
public final class RemoteRecordSource: RecordSource, @unchecked Sendable {
    let fetcher: RemoteFetcher
    let console: Console
    private let lock = NSLock()
    private var givenUp = false
    /// Keys the remote could not serve: the runner asks again for a stage that waited for a free slot.
    private var misses: Set<String> = []
    private(set) public var pulled: [String] = []

    public init(remote: Remote, store: CacheStore, transfers: Transfers = Transfers(), console: Console) {
        fetcher = RemoteFetcher(remote: remote, store: store, transfers: transfers)
        self.console = console
    }

    public func fetchRecord(for spec: ActionSpec, withObjects: Bool, into store: CacheStore) -> ActionRecord? {
        guard isUsable, !missed(spec.key) else { return nil }
        let record: ActionRecord? = attempt(spec.stage) {
            switch try fetcher.lookUp(key: spec.key) {
            case .absent: return nil
            case .unusable(let why):
                console.note("\(spec.stage): the record on remote '\(fetcher.remote.name)' cannot be used (\(why)); computing it here")
                return nil
            case .found(let record, let data):
                let problems = withObjects ? try fetcher.fetch(record.namedObjects, console: console, label: "pull \(spec.stage)")
                                           : try fetcher.checkPresent(record.namedObjects.map(\.digest))
                if let reason = describe(problems, of: record) {
                    console.note("\(spec.stage): the record on remote '\(fetcher.remote.name)' was skipped: \(reason); computing it here")
                    return nil
                }
                try fetcher.adopt(record, data: data)
                lock.lock(); pulled.append(spec.stage); lock.unlock()
                return record
            }
        }
        if record == nil { lock.lock(); misses.insert(spec.key); lock.unlock() }
        return record
    }

    private func missed(_ key: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return misses.contains(key)
    }

    public func fetchObjects(of record: ActionRecord, into store: CacheStore) -> Bool {
        guard isUsable else { return false }
        return attempt(record.stage) {
            let problems = try fetcher.fetch(record.namedObjects, console: console, label: "pull \(record.stage)")
            if let reason = describe(problems, of: record) { console.note("\(record.stage): \(reason)") }
            return problems.isEmpty
        } ?? false
    }

    private var isUsable: Bool {
        lock.lock(); defer { lock.unlock() }
        return !givenUp
    }

    private func attempt<T>(_ stage: String, _ body: () throws -> T?) -> T? {
        do { return try body() } catch let error as RemoteError where error.concernsWholeRemote {
            lock.lock(); givenUp = true; lock.unlock()
            console.note("\(error)\nno more lookups on remote '\(fetcher.remote.name)' in this run; computing locally what is not cached")
        } catch {
            console.note("\(stage): pulling from remote '\(fetcher.remote.name)' failed (\(error)); computing it here")
        }
        return nil
    }

    private func describe(_ problems: [String: String], of record: ActionRecord) -> String? {
        guard let (digest, problem) = problems.min(by: { $0.key < $1.key }) else { return nil }
        return "\(record.objectName(digest)) (object \(digest.prefix(16))…) is \(problem)"
    }
}
