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

struct VerifyCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every cached object; quarantine corrupt ones so their stages run again.")

    @OptionGroup var options: PipelineOptions

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let started = Date()
        let result = try Maintenance(store: store).verify()
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "checked %d objects (%@) in %.2fs", result.checked, Format.bytes(result.bytes), seconds))
        if result.corrupt.isEmpty { print("all objects match their digests"); return }
        for digest in result.corrupt { print("corrupt: \(digest) (quarantined)") }
        print("stale now, rerun by the next `bnrepro run`: " + Array(Set(result.affectedStages)).sorted().joined(separator: ", "))
        throw ExitCode(1)
    }
}
