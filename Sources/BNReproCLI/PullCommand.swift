import ArgumentParser
import Foundation
import Pipeline
import RemoteCache

struct PullCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download from a remote what the targets need: the records of their whole closure, the objects of the targets and of what publishes.",
        discussion: """
        Keys chain through every stage before a target, so their records come too, but their objects stay on \
        the remote (each checked to be there), except for stages that publish (figures, tables): pulling the figures does not download the data set. `run` \
        fetches such objects (with --pull) or computes them only when a stage that runs here reads them. \
        Every object is checked against its SHA-256 before it enters the cache, and a record is kept only \
        once its objects are; what cannot be used is named and skipped (exit 1). Examples:
          bnrepro pull --profile paper                 every stage of the paper profile, with its objects
          bnrepro pull fig1 fig3 --profile paper       two figures (records of what they need, objects of the figures)
        """)

    @OptionGroup var options: PipelineOptions
    @OptionGroup var remoteOptions: RemoteOptions
    @Argument(help: "Stages, matrix groups or figures (default: every stage, with its objects).") var targets: [String] = []
    @Flag(name: .customLong("no-wait"), help: "Fail instead of waiting when another run holds the cache.") var noWait = false

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.cacheStore()
        let remote = try remoteOptions.resolve(options)
        let console = Console()
        let lock = try CacheLock(cache: store, wait: noWait ? .fail : .wait, command: CommandLine.arguments.joined(separator: " ")) {
            console.note("waiting for \($0) to finish…")
        }
        defer { withExtendedLifetime(lock) {} }
        store.removeDeadWork()
        let pull = RemotePull(remote: remote, store: store, transfers: remoteOptions.transferSettings, console: console)
        // Objects where they are needed: the targets', and those of every stage that publishes (a figure,
        // a table), since `run` copies them out.
        let closure = try pipeline.closure(of: targets)
        let withObjects = try pipeline.forcedStages(targets: targets).union(closure.filter { $0.publish != nil }.map(\.name))
        let outcome = try pull.pull(pipeline, stages: closure, withObjects: withObjects)
        for (stage, reason) in outcome.skipped { print("skipped \(stage): \(reason)") }
        var line = "pulled from '\(remote.name)' (\(remote.url.absoluteString)): \(outcome.pulled.count) stages with their objects "
            + "(\(outcome.objectsDownloaded) objects, \(Format.bytes(outcome.bytesDownloaded)) downloaded), "
            + "\(outcome.recordsOnly.count) as records only, \(outcome.local.count) already here"
        if !outcome.absent.isEmpty { line += ", \(outcome.absent.count) not on the remote" }
        if !outcome.skipped.isEmpty { line += ", \(outcome.skipped.count) skipped" }
        print(line)
        if !outcome.skipped.isEmpty { throw ExitCode(1) }
    }
}
