import ArgumentParser
import Foundation
import Pipeline
import RemoteCache

struct PushCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload the up-to-date stages' records, and the objects they name, to a remote.",
        discussion: """
        Objects go first (those the remote has are not sent again), then each record whose objects are all \
        there. A record the remote already holds in another version is kept there and reported as a conflict. \
        Examples:
          bnrepro push --profile paper                 every up-to-date stage of the paper profile
          bnrepro push fig3 --remote lab               fig3 and every stage it needs
        """)

    @OptionGroup var options: PipelineOptions
    @OptionGroup var remoteOptions: RemoteOptions
    @Argument(help: "Stages, matrix groups or figures (default: every stage).") var targets: [String] = []

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.existingCacheStore()
        let remote = try remoteOptions.resolve(options)
        let closure = Set(try pipeline.closure(of: targets).map(\.name))
        var records: [(stage: String, record: ActionRecord)] = []
        var notUpToDate = 0
        for (stage, state) in StatusReport(pipeline: pipeline, store: store).states() where closure.contains(stage.name) {
            if case .upToDate(let key) = state, let record = store.record(key) { records.append((stage.name, record)) } else { notUpToDate += 1 }
        }
        let console = Console()
        let push = RemotePush(remote: remote, store: store, transfers: remoteOptions.transferSettings, console: console)
        let outcome = try push.push(records)
        try PushCommand.report(outcome, remote: remote, notUpToDate: notUpToDate)
    }

    /// The push's lines; exit 1 when a stage could not be pushed.
    static func report(_ outcome: RemotePush.Outcome, remote: Remote, notUpToDate: Int) throws {
        for (stage, reason) in outcome.conflicts { print("conflict \(stage): \(reason)") }
        for (stage, reason) in outcome.failed { print("not pushed \(stage): \(reason)") }
        var line = "pushed \(outcome.pushed.count) record\(outcome.pushed.count == 1 ? "" : "s") to '\(remote.name)' (\(remote.url.absoluteString)): "
            + "\(outcome.objectsUploaded) objects uploaded (\(Format.bytes(outcome.bytesUploaded))), \(outcome.objectsAlreadyThere) already there; "
            + "\(outcome.alreadyThere.count) records already there"
        if !outcome.conflicts.isEmpty { line += ", \(outcome.conflicts.count) conflicts (the remote's record kept)" }
        if !outcome.failed.isEmpty { line += ", \(outcome.failed.count) not pushed" }
        if notUpToDate > 0 { line += "; \(notUpToDate) stages not up to date here were left out (bnrepro status)" }
        print(line)
        if !outcome.failed.isEmpty { throw ExitCode(1) }
    }
}
