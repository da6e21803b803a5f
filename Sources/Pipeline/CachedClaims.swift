import Foundation

/// The claims.json of every up-to-date stage of a pipeline: what `bnrepro claims` prints and what
/// `bnrepro report` summarises, gathered one way so the two never disagree.
public struct CachedClaims: Sendable {
    /// One file per up-to-date stage that wrote claims, in topological order.
    public let files: [ClaimsFile]
    /// Stages that are not up to date: they contribute no claims.
    public let missing: [String]

    public let table: ClaimsTable

    public init(states: [(stage: ResolvedStage, state: StatusReport.State)], store: CacheStore) throws {
        var files: [ClaimsFile] = [], missing: [String] = []
        for (stage, state) in states {
            guard case .upToDate(let key) = state, let record = store.record(key) else {
                missing.append(stage.name)
                continue
            }
            if let file = try CachedClaims.read(record, store: store) { files.append(file) }
        }
        self.files = files
        table = ClaimsTable(files)
        self.missing = missing
    }

    /// The claims a record's stage wrote, nil when it wrote none.
    public static func read(_ record: ActionRecord, store: CacheStore) throws -> ClaimsFile? {
        guard let ref = record.outputs[ClaimsFile.fileName] else { return nil }
        do {
            // Through the store, which never follows a symlink planted under objects/.
            return try ClaimsFile.decode(store.readObject(ref.digest))
        } catch {
            throw PipelineError.badParameter(stage: record.stage, parameter: ClaimsFile.fileName,
                                             problem: "cached object \(ref.digest) does not parse: \(error)")
        }
    }
}
