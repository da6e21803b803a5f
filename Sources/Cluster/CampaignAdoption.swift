import Foundation
import Pipeline

/// Finds the tasks of detached campaigns that are still pending or running, so that neither a new
/// campaign nor a waiting run submits their stages a second time: they wait for those tasks instead.
struct CampaignAdoption {
    let store: CacheStore
    let client: SlurmClient

    /// Live tasks of campaigns not cancelled, each with its campaign's snapshot, latest campaign first.
    private func live() -> [(task: Campaign.Task, snapshot: PipelineSnapshot)] {
        let campaigns = CampaignStore(store: store)
        var problems: [String] = []   // `status` reports campaigns that do not read
        let open = campaigns.all(problems: &problems).filter { $0.cancelled == nil }
        let tasks = open.flatMap(\.tasks)
        guard !tasks.isEmpty else { return [] }
        let states = CampaignMonitor(store: store, client: client).states(of: tasks)
        var snapshots: [String: PipelineSnapshot] = [:]
        var result: [(Campaign.Task, PipelineSnapshot)] = []
        for task in tasks.reversed() where states[task]?.isLive == true {
            guard let snapshot = snapshots[task.campaign] ?? (try? campaigns.snapshot(task.campaign)),
                  !snapshot.forced.contains(task.stage) else { continue }
            snapshots[task.campaign] = snapshot
            result.append((task, snapshot))
        }
        return result
    }

    /// For a new campaign, by stage: the stage and everything it needs are defined as in `snapshot`, so
    /// on the same cached inputs it has the same key (its inputs may not exist yet).
    func liveTasks(matching snapshot: PipelineSnapshot) -> [String: Campaign.Task] {
        var found: [String: Campaign.Task] = [:]
        for (task, theirs) in live() where found[task.stage] == nil
            && theirs.closure(of: task.stage) == snapshot.closure(of: task.stage) {
            found[task.stage] = task
        }
        return found
    }

    /// For a waiting run, by key: its stages' inputs are cached, so a task's key can be resolved now.
    func liveTasks(for launches: [StageLaunch]) -> [String: SlurmTask] {
        let wanted = Dictionary(launches.map { ($0.stage.name, $0.spec.key) }) { a, _ in a }
        let candidates = live().filter { wanted[$0.task.stage] != nil }
        var found: [String: SlurmTask] = [:]
        for (task, snapshot) in candidates {
            guard let key = wanted[task.stage], found[key] == nil, store.record(key) == nil,
                  (try? snapshot.spec(of: task.stage, store: store))?.key == key else { continue }
            let directory = store.root.appendingPathComponent(task.directory)
            var adopted = SlurmTask(jobID: task.jobID, index: task.index, directory: directory, stage: task.stage,
                                    statusFile: SlurmJobScript.statusFile(task: task.index, in: directory))
            adopted.campaign = task.campaign
            found[key] = adopted
        }
        return found
    }
}
