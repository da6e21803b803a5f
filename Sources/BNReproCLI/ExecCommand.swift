import ArgumentParser
import Foundation
import Cluster
import Pipeline

struct ExecCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one stage from its action spec in the cache (what executors call; not for everyday use).",
        discussion: "A detached campaign's job names the stage and the campaign's snapshot instead of a key: it resolves the key itself.")

    @Argument(help: "The stage key.") var key: String?
    @Option(help: "The cache directory.") var cache: String
    @Option(help: "The executor's name, recorded in the action record.") var executor = "local"
    @Option(help: "A detached campaign's snapshot.json (with --stage, instead of a key).") var campaign: String?
    @Option(help: "The stage to run, by name (with --campaign).") var stage: String?

    func validate() throws {
        switch (key, campaign, stage) {
        case (_?, nil, nil), (nil, _?, _?): return
        default: throw ValidationError("give either a stage key, or --campaign and --stage")
        }
    }

    func run(registry: KindRegistry) throws {
        // A local runner ignores and blocks these signals to handle them as events (libdispatch), and a
        // child inherits both: a worker must still end on the SIGTERM its runner sends it (or scancel does).
        var handled = sigset_t()
        sigemptyset(&handled)
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_DFL)
            sigaddset(&handled, sig)
        }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        GracefulStop.install()
        let store = try CacheStore(root: URL(fileURLWithPath: cache))
        let outcome: StageExecution.Outcome
        if let campaign, let stage {
            outcome = StageExecution.execute(stage: stage, snapshot: URL(fileURLWithPath: campaign), store: store,
                                             registry: registry, executor: executor)
        } else {
            outcome = StageExecution.execute(key: key ?? "", store: store, registry: registry, executor: executor)
        }
        if outcome != .succeeded { throw ExitCode(outcome.rawValue) }
    }
}
