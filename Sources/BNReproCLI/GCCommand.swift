import ArgumentParser
import Foundation
import Pipeline

struct GCCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove cached results that no profile of the current pipeline reaches.")

    @OptionGroup var options: PipelineOptions
    @Flag(name: .customLong("dry-run"), help: "Say what would be removed, remove nothing.") var dryRun = false

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let lock = dryRun ? nil : try CacheLock(cache: store, wait: .fail, command: "bnrepro gc") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let result = Maintenance(store: store).collectGarbage(pipelines: try options.resolveAllProfiles(registry), dryRun: dryRun)
        let verb = dryRun ? "would remove" : "removed"
        print("kept \(result.keptRecords) records; \(verb) \(result.removedRecords.count) records and \(result.removedObjects.count) objects (\(Format.bytes(result.removedBytes)))")
    }
}
