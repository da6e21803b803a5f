import ArgumentParser
import Foundation
import Cluster
import Pipeline

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel the Slurm jobs of detached campaigns (run --executor slurm --detach).",
        discussion: """
        Without --campaign: every campaign of the cache with a job still pending or running. Finished
        stages stay cached; a later run submits only what is missing. Tasks a campaign adopted from an
        earlier one belong to that one: cancel it by its own id.
        """)

    @OptionGroup var options: PipelineOptions
    @Option(name: .customLong("campaign"), help: "A campaign id (as `status` and `run --detach` print it); repeatable.")
    var campaignIDs: [String] = []

    func run() throws {
        let store = try options.existingCacheStore()
        let campaigns = CampaignStore(store: store)
        var problems: [String] = []
        let chosen = campaignIDs.isEmpty ? campaigns.all(problems: &problems) : try campaignIDs.map { try campaigns.load($0) }
        for problem in problems { FileHandle.standardError.write(Data("bnrepro cancel: skipping \(problem)\n".utf8)) }
        let client = SlurmClient()
        let monitor = CampaignMonitor(store: store, client: client)
        var cancelledAny = false
        for var campaign in chosen {
            let own = campaign.submittedTasks
            let states = monitor.states(of: own)
            let live = own.filter { states[$0]?.isLive == true }
            guard !live.isEmpty else {
                if !campaignIDs.isEmpty { print("campaign \(campaign.id): no job is pending or running; nothing to cancel") }
                continue
            }
            campaign.cancelled = Date()
            try campaigns.save(campaign)
            let jobIDs = Array(Set(live.map { $0.jobID })).sorted()
            guard let result = client.cancel(jobIDs: jobIDs) else { throw SlurmError.toolMissing("scancel") }
            if result.status != 0 { throw ValidationError("scancel \(jobIDs.joined(separator: " ")): \(result.detail)") }
            let running = live.filter { if case .running = states[$0] { return true }; return false }.count
            print("campaign \(campaign.id): cancelled job\(jobIDs.count == 1 ? "" : "s") \(jobIDs.joined(separator: ", ")) (\(running) running, \(live.count - running) pending)")
            cancelledAny = true
        }
        if !cancelledAny && campaignIDs.isEmpty { print("no campaign of \(store.root.path) has a job pending or running") }
    }
}
