import Foundation
import Pipeline

/// Everything the report shows, read from the cache at one moment. The page is a function of this
/// value; nothing is computed or run to make it (a report is a view of the cache, not a stage).
public struct ReportSnapshot: Sendable {
    public let pipeline: ResolvedPipeline
    public let store: CacheStore
    public let stages: [StageSnapshot]
    public let claims: CachedClaims
    public let generated: Date
    /// The project's commit now (what the report was made from), "-dirty" when changed.
    public let commit: String?
    /// The `--set` assignments the report was made with: rerun commands repeat them, as they are part of the keys.
    public let assignments: [String]

    public init(pipeline: ResolvedPipeline, store: CacheStore, projectDirectory: URL, assignments: [String],
                generated: Date = Date()) throws {
        self.pipeline = pipeline
        self.store = store
        let states = StatusReport(pipeline: pipeline, store: store).states()
        stages = StageSnapshot.gather(states, store: store)
        claims = try CachedClaims(states: states, store: store)
        self.generated = generated
        commit = GitInfo.commit(in: projectDirectory)
        self.assignments = assignments
    }

    public func stage(_ name: String) -> StageSnapshot? { stages.first { $0.stage.name == name } }

    /// The figure stages in the order of pipeline.json's `figures` map (the paper's order there).
    public var figures: [StageSnapshot] {
        pipeline.figureStages.compactMap { stage($0.name) }
    }

    /// The compute behind the report: summed over the records of the up-to-date stages.
    public var computeSeconds: (wall: Double, cpu: Double) {
        stages.filter(\.isCurrent).compactMap(\.record).reduce((0, 0)) { ($0.0 + $1.wallSeconds, $0.1 + $1.cpuSeconds) }
    }

    /// The commits the current results were computed at, with how many stages each.
    public var recordedCommits: [(commit: String, stages: Int)] {
        var counts: [String: Int] = [:]
        for record in stages.filter(\.isCurrent).compactMap(\.record) { counts[record.gitCommit ?? "unknown", default: 0] += 1 }
        return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }

    /// The bytes of one output of a record, nil when the object is gone.
    public func object(_ record: ActionRecord, _ output: String) -> Data? {
        guard let ref = record.outputs[output], store.has(ref) else { return nil }
        return try? store.readObject(ref.digest)  // never through a symlink planted under objects/
    }

    /// The command that brings a stage up to date again with the same profile and overrides.
    public func rerunCommand(_ stage: String, force: Bool) -> String {
        var words = ["bnrepro", "run", stage] + (force ? ["--force"] : [])
        if pipeline.profile != pipeline.document.defaultProfile { words += ["--profile", pipeline.profile] }
        for assignment in assignments { words += ["--set", assignment] }
        return words.map(ReportSnapshot.shellQuoted).joined(separator: " ")
    }

    static func shellQuoted(_ word: String) -> String {
        let plain = word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./=:".unicodeScalars.contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
