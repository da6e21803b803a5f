import Foundation
import Pipeline

/// `run --executor slurm --detach`: submits every stage the targets need that is not cached, all at
/// once, each job array waiting for the jobs of its inputs (`--dependency=afterok:<job>_<task>`), and
/// returns. Nothing needs to stay alive on the login node: each job resolves its own key when it starts
/// (`StageExecution.execute(stage:snapshot:)`), holds the stage's lock while it computes, and publishes
/// its outputs. A stage whose task from an earlier campaign is still pending or running, for the same
/// definition, is adopted (waited for) instead of submitted again.
public struct CampaignSubmitter: Sendable {
    public let pipeline: ResolvedPipeline
    public let store: CacheStore
    public let configuration: SlurmExecutor.Configuration
    public let client: SlurmClient
    public let console: Console
    public let projectDirectory: URL

    public init(pipeline: ResolvedPipeline, store: CacheStore, configuration: SlurmExecutor.Configuration, client: SlurmClient,
                console: Console, projectDirectory: URL) {
        self.pipeline = pipeline
        self.store = store
        self.configuration = configuration
        self.client = client
        self.console = console
        self.projectDirectory = projectDirectory
    }

    public struct Outcome: Sendable {
        public var campaign: Campaign?
        public var cached: [String] = []
        public var submitted: [String] = []
        public var adopted: [String] = []
    }

    public func submit(targets: [String], force: Bool, command: String) throws -> Outcome {
        let stages = try pipeline.closure(of: targets)
        let forced = force ? try pipeline.forcedStages(targets: targets) : []
        let publisher = StagePublisher(store: store, projectDirectory: projectDirectory)
        var outcome = Outcome()
        // Up to date now: their outputs go into the keys of what follows, as in a waiting run.
        var outputs: [String: [String: OutputRef]] = [:]
        var pending: [ResolvedStage] = []
        let planner = Runner(pipeline: pipeline, store: store, executor: NoExecutor(), console: console, projectDirectory: projectDirectory)
        for stage in stages {
            if !forced.contains(stage.name), let spec = planner.spec(for: stage, outputs: outputs), let record = store.record(spec.key) {
                outputs[stage.name] = record.outputs
                outcome.cached.append(stage.name)
                try store.markLatest(key: spec.key, ofStage: stage.name)
                try publisher.publish(stage: stage.name, to: stage.publish, record)
            } else {
                pending.append(stage)
            }
        }
        guard !pending.isEmpty else { return outcome }

        let snapshot = PipelineSnapshot(profile: pipeline.profile, stages: stages, forced: forced, projectDirectory: projectDirectory)
        let adoptable = forced.isEmpty ? CampaignAdoption(store: store, client: client).liveTasks(matching: snapshot) : [:]
        let campaigns = CampaignStore(store: store)
        var campaign = try campaigns.create(profile: pipeline.profile, targets: targets, command: command, snapshot: snapshot)
        campaign.cached = outcome.cached
        var taskOf: [String: Campaign.Task] = [:]
        var toSubmit: [ResolvedStage] = []
        for stage in pending {
            if let task = adoptable[stage.name] {
                taskOf[stage.name] = task
                campaign.adopted.append(task)
                outcome.adopted.append(stage.name)
            } else {
                toSubmit.append(stage)
            }
        }
        try campaigns.save(campaign)

        let submission = SlurmSubmission(configuration: configuration, client: client, store: store)
        let snapshotURL = campaigns.snapshotURL(campaign.id)
        for batch in CampaignSubmitter.batches(toSubmit) {
            let waitsFor = Set(batch.flatMap(\.deps)).compactMap { taskOf[$0] }
            let dependency = CampaignSubmitter.dependency(waitsFor, campaign: campaign)
            let names = batch.map(\.name)
            let job: SlurmSubmission.Job
            do {
                job = try submission.submit(group: batch[0].group, ids: names, stages: names, mode: .campaign(snapshotURL),
                                            dependency: dependency)
            } catch {
                // Half a campaign would leave stages waiting for jobs that were never submitted.
                let ids = campaign.jobs.map(\.jobID)
                _ = client.cancel(jobIDs: ids)
                campaign.cancelled = Date()
                try? campaigns.save(campaign)
                throw CampaignSubmissionError(campaign: campaign.id, cancelled: ids, underlying: "\(error)")
            }
            let directory = String(job.directory.path.dropFirst(store.root.path.count + 1))
            campaign.jobs.append(Campaign.Job(jobID: job.jobID, group: batch[0].group, directory: directory, stages: names,
                                              dependency: dependency))
            for (i, name) in names.enumerated() {
                taskOf[name] = Campaign.Task(stage: name, jobID: job.jobID, index: i, directory: directory, campaign: campaign.id)
            }
            try campaigns.save(campaign)
            outcome.submitted += names
            let waited = dependency.map { $0.dropFirst("afterok:".count).split(separator: ":").map(String.init) } ?? []
            let after = waited.isEmpty ? "" : ", after " + (waited.count > 6
                ? waited.prefix(5).joined(separator: ", ") + " and \(waited.count - 5) more" : waited.joined(separator: ", "))
            console.note("submitted \(batch[0].group)\(batch.count > 1 ? " (\(batch.count) stages)" : "") as job \(job.jobID)\(after)")
        }
        outcome.campaign = campaign
        return outcome
    }

    /// The stages of one pipeline.json entry go as one job array, except where a member needs another
    /// member of the same entry: then each wave of the chain is an array of its own.
    static func batches(_ stages: [ResolvedStage]) -> [[ResolvedStage]] {
        var wave: [String: Int] = [:]
        for stage in stages {
            wave[stage.name] = (stage.deps.compactMap { wave[$0] }.max() ?? -1) + 1
        }
        var order: [String] = []
        var members: [String: [ResolvedStage]] = [:]
        for stage in stages {
            let id = "\(stage.group)\u{0}\(wave[stage.name] ?? 0)"
            if members[id] == nil { order.append(id) }
            members[id, default: []].append(stage)
        }
        // By wave, then in pipeline order: a batch comes after every batch it needs.
        return order.enumerated().sorted { a, b in
            let wa = wave[members[a.element]?.first?.name ?? ""] ?? 0, wb = wave[members[b.element]?.first?.name ?? ""] ?? 0
            return wa != wb ? wa < wb : a.offset < b.offset
        }.compactMap { members[$0.element] }
    }

    /// `afterok:1234:1240_3:…`: a whole array where every one of its tasks is needed, single tasks otherwise.
    static func dependency(_ tasks: [Campaign.Task], campaign: Campaign) -> String? {
        guard !tasks.isEmpty else { return nil }
        let sizes = Dictionary(campaign.jobs.map { ($0.jobID, $0.stages.count) }) { a, _ in a }
        var parts: [String] = []
        for (jobID, members) in Dictionary(grouping: tasks, by: \.jobID).sorted(by: { $0.key < $1.key }) {
            let indices = Set(members.map(\.index))
            if let size = sizes[jobID], indices.count == size { parts.append(jobID) }
            else { parts += indices.sorted().map { "\(jobID)_\($0)" } }
        }
        return "afterok:" + parts.joined(separator: ":")
    }
}

public struct CampaignSubmissionError: Error, CustomStringConvertible {
    public let campaign: String
    public let cancelled: [String]
    public let underlying: String
    public var description: String {
        "campaign \(campaign): \(underlying)"
            + (cancelled.isEmpty ? "" : "; cancelled the jobs it had submitted (\(cancelled.joined(separator: ", "))) so that none waits for a job that does not exist")
    }
}
