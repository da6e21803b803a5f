import Foundation
import Cluster
import Pipeline

/// What `status` says of detached campaigns: for each stage that is not up to date, how its latest
/// task stands, and one line per campaign with something still open or gone wrong.
struct CampaignReport {
    let campaigns: [Campaign]
    let states: [Campaign.Task: CampaignTaskState]
    let problems: [String]
    /// The latest campaign's task of each stage.
    let latestTask: [String: Campaign.Task]

    init(store: CacheStore, client: SlurmClient = SlurmClient()) {
        var problems: [String] = []
        campaigns = CampaignStore(store: store).all(problems: &problems)
        self.problems = problems
        let tasks = campaigns.flatMap(\.tasks)
        states = tasks.isEmpty ? [:] : CampaignMonitor(store: store, client: client)
            .states(of: tasks, cancelled: Set(campaigns.filter { $0.cancelled != nil }.map(\.id)))
        var latest: [String: Campaign.Task] = [:]
        for task in tasks { latest[task.stage] = task }
        latestTask = latest
    }

    /// "slurm job 1234_5 pending (Dependency), campaign …", for a stage that is not up to date.
    func line(for stage: String) -> String? {
        guard let task = latestTask[stage], let state = states[task] else { return nil }
        return "slurm job \(task.slurmID) \(state.summary), campaign \(task.campaign)"
    }

    func tally(_ campaign: Campaign) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        for task in campaign.tasks {
            let word: String
            switch states[task] ?? .unknown {
            case .pending: word = "pending"
            case .running: word = "running"
            case .succeeded: word = "done"
            case .failed: word = "failed"
            case .cancelled: word = "cancelled"
            case .vanished: word = "gone"
            case .unknown: word = "unknown"
            }
            counts[word, default: 0] += 1
        }
        return ["done", "running", "pending", "failed", "gone", "cancelled", "unknown"].compactMap { w in counts[w].map { (w, $0) } }
    }

    /// Campaigns with a task that is not done, and the latest one whatever its state.
    var linesToPrint: [String] {
        var lines = problems.map { "campaign unreadable: \($0)" }
        for (i, campaign) in campaigns.enumerated() {
            let counts = tally(campaign)
            let open = counts.contains { $0.0 != "done" }
            guard open || i == campaigns.count - 1 else { continue }
            let what = counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
            let adopted = campaign.adopted.isEmpty ? "" : " (\(campaign.adopted.count) adopted)"
            let cancelled = campaign.cancelled == nil ? "" : ", cancelled"
            lines.append("campaign \(campaign.id) [profile \(campaign.profile)\(cancelled)]: \(what.isEmpty ? "nothing submitted" : what)\(adopted)")
        }
        return lines
    }
}
