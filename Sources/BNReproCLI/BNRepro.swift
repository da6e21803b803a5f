import ArgumentParser
import Foundation
import Pipeline

/// The `bnrepro` command line. A binary calls `BNRepro.main(registry:)` with the stage kinds it
/// knows: the real one with the experiments, the test binary with the tests' kinds.
public enum BNRepro {
    public static func main(registry: KindRegistry) -> Never {
        do {
            var command = try Root.parseAsRoot()
            if let command = command as? RegistryCommand {
                try command.run(registry: registry)
            } else {
                try command.run()
            }
            exit(0)
        } catch let error as PipelineError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        } catch {
            Root.exit(withError: error)
        }
    }
}

/// A subcommand that needs to know the stage kinds.
protocol RegistryCommand: ParsableCommand {
    func run(registry: KindRegistry) throws
}

struct Root: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bnrepro",
        abstract: "Regenerates the figures of \"Understanding Batch Normalization\" through a cached pipeline of stages.",
        discussion: """
        Stages are declared in pipeline.json. Each stage's outputs are stored by content under data/cache; a stage whose \
        kind, parameters and inputs did not change is never run again.
        """,
        subcommands: [RunCommand.self, StatusCommand.self, CancelCommand.self, DagCommand.self, ShowCommand.self, ListCommand.self,
                      CatCommand.self, ClaimsCommand.self, DiffCommand.self, AuditCommand.self, EstimateCommand.self, ReportCommand.self, GCCommand.self,
                      VerifyCommand.self, CacheCommand.self, RemoteCommand.self, PushCommand.self, PullCommand.self, RenderSamplesCommand.self, ExecCommand.self],
        defaultSubcommand: nil)
}
