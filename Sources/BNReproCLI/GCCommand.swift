import ArgumentParser
import Foundation
import Pipeline

struct GCCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove cached results that no profile of the current pipeline reaches.",
        discussion: """
        A record that cannot be read is kept, with every object it may name and every record that may \
        depend on it, unless --unreadable is given. A record written by a newer bnrepro is always kept.
        """)

    @OptionGroup var options: PipelineOptions
    @Flag(name: .customLong("dry-run"), help: "Say what would be removed, remove nothing.") var dryRun = false
    @Flag(name: .customLong("unreadable"), help: "Also remove action records that cannot be read (see `bnrepro verify`).")
    var unreadable = false

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let lock = dryRun ? nil : try CacheLock(cache: store, wait: .fail, command: "bnrepro gc") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let result = Maintenance(store: store).collectGarbage(pipelines: try options.resolveAllProfiles(registry), dryRun: dryRun,
                                                              removeUnreadable: unreadable)
        let verb = dryRun ? "would remove" : "removed"
        print("kept \(result.keptRecords) records; \(verb) \(result.removedRecords.count) records and \(result.removedObjects.count) objects (\(Format.bytes(result.removedBytes)))")
        if !result.keptUnreadable.isEmpty {
            print("kept \(result.keptUnreadable.count) unreadable record(s), what they may name and \(result.keptDownstream) record(s) "
                  + "that may depend on them: \(result.keptUnreadable.sorted().joined(separator: ", ")) (`gc --unreadable` removes them)")
        }
        if !result.removedUnreadable.isEmpty { print("\(verb) unreadable record(s): \(result.removedUnreadable.sorted().joined(separator: ", "))") }
        if !result.keptNewer.isEmpty {
            print("kept \(result.keptNewer.count) record(s) written by a newer bnrepro: \(result.keptNewer.sorted().joined(separator: ", "))")
        }
        if result.objectsKeptWholesale { print("no object was removed: a kept record could not be read, so what it names is unknown") }
    }
}
