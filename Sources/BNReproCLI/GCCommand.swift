import ArgumentParser
import Foundation
import Cluster
import Pipeline

struct GCCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove cached results that no profile of the current pipeline reaches.",
        discussion: """
        A record that cannot be read is kept, with every object it may name and every record that may \
        depend on it, unless --unreadable is given. A record written by a newer bnrepro is always kept. \
        While a detached Slurm campaign has jobs pending or running, gc refuses: they need inputs that no \
        profile may reach (a campaign run with --set); wait for them or `bnrepro cancel` first.
        """)

    @OptionGroup var options: PipelineOptions
    @Flag(name: .customLong("dry-run"), help: "Say what would be removed, remove nothing.") var dryRun = false
    @Flag(name: .customLong("unreadable"), help: "Also remove action records that cannot be read (see `bnrepro verify`).")
    var unreadable = false

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let lock = dryRun ? nil : try CacheLock(cache: store, wait: .fail, command: "bnrepro gc") { _ in }
        defer { withExtendedLifetime(lock) {} }
        if !dryRun { try refuseWhileCampaignsRun(store) }
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
        if result.removedLocks > 0 { print("\(verb) \(result.removedLocks) lock file(s) of stages no worker is computing") }
        if result.objectsKeptWholesale { print("no object was removed: a kept record could not be read, so what it names is unknown") }
    }

    private func refuseWhileCampaignsRun(_ store: CacheStore) throws {
        var problems: [String] = []
        let campaigns = CampaignStore(store: store).all(problems: &problems).filter { $0.cancelled == nil }
        let tasks = campaigns.flatMap(\.submittedTasks)
        guard !tasks.isEmpty else { return }
        let states = CampaignMonitor(store: store, client: SlurmClient()).states(of: tasks)
        let live = Set(tasks.filter { states[$0]?.isLive == true }.map(\.campaign)).sorted()
        if !live.isEmpty {
            throw ValidationError("campaign\(live.count == 1 ? "" : "s") \(live.joined(separator: ", ")) still \(live.count == 1 ? "has" : "have") Slurm jobs pending or running, "
                                  + "which read inputs gc could remove; wait for them, or stop them with `bnrepro cancel`")
        }
        let unknown = Set(tasks.filter { states[$0] == .unknown }.map(\.campaign)).sorted()
        if !unknown.isEmpty {
            print("warning: squeue did not answer, so whether campaign\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")) still run is unknown; "
                  + "their jobs fail (never silently) if gc removes an input they need")
        }
    }
}
