import Foundation

/// Copies a stage's outputs into its `publish` directory (figures/), atomically, when changed: the
/// runner does it for each stage it brings up to date, a detached campaign's job for its own stage.
/// Every stage's `claims.json` has the same name, so it stays in the cache (`bnrepro claims` and
/// the `claims` stage's table gather them) instead of overwriting another stage's in the directory.
/// The path was checked when the pipeline resolved; it is checked again here, with each output's
/// name, because a symlink may have appeared in the directory since (or a record name an odd file).
public struct StagePublisher: Sendable {
    public let store: CacheStore
    /// Where `publish` directories are relative to (the directory of pipeline.json).
    public let projectDirectory: URL

    public init(store: CacheStore, projectDirectory: URL) {
        self.store = store
        self.projectDirectory = projectDirectory
    }

    public func publish(stage: String, to directory: String?, _ record: ActionRecord) throws {
        guard let dir = directory else { return }
        let target = projectDirectory.appendingPathComponent(dir)
        for (name, ref) in record.outputs.sorted(by: { $0.key < $1.key }) where name != ClaimsFile.fileName {
            let relative = dir + "/" + name
            if let problem = PublishPath.problem(relative) ?? PublishPath.escapingSymlink(relative, in: projectDirectory) {
                throw PipelineError.unsafePublish(stage: stage, problem: problem)
            }
            let dest = target.appendingPathComponent(name)
            if FileIO.size(dest) == ref.size, (try? Digest.sha256(file: dest).digest) == ref.digest { continue }
            try FileIO.atomicWrite(try store.readObject(ref.digest), to: dest)
        }
    }
}
