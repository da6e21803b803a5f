import ArgumentParser
import Foundation
import Pipeline

struct ExecCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one stage from its action spec in the cache (what executors call; not for everyday use).")

    @Argument(help: "The stage key.") var key: String
    @Option(help: "The cache directory.") var cache: String
    @Option(help: "The executor's name, recorded in the action record.") var executor = "local"

    func run(registry: KindRegistry) throws {
        let store = try CacheStore(root: URL(fileURLWithPath: cache))
        let outcome = StageExecution.execute(key: key, store: store, registry: registry, executor: executor)
        if outcome != .succeeded { throw ExitCode(outcome.rawValue) }
    }
}
