import Foundation
import Pipeline

/// A detached submission (`run --executor slurm --detach`): every stage the targets needed went to
/// Slurm at once, chained by `--dependency=afterok`, and the submitting process exited. Kept under
/// `<cache>/campaigns/<id>/` as `snapshot.json` (what the jobs compute, never changed) and
/// `campaign.json` (what was submitted; rewritten atomically as jobs are added or cancelled).
public struct Campaign: Codable, Sendable {
    public static let currentSchemaVersion = 1

    /// One task of a job array: the stage it runs, and where its status file and output go.
    public struct Task: Codable, Sendable, Hashable {
        public let stage: String
        public let jobID: String
        public let index: Int
        /// The job directory, relative to the cache root (`slurm/<group>-<time>-<random>`).
        public let directory: String
        /// The campaign that submitted it: this one, or an earlier one whose task this one adopted.
        public let campaign: String
        /// How Slurm names the task: `1234_5`.
        public var slurmID: String { "\(jobID)_\(index)" }
    }

    public struct Job: Codable, Sendable {
        public let jobID: String
        public let group: String
        public let directory: String
        public let stages: [String]
        /// sbatch's `--dependency` value, if the job waits for others.
        public let dependency: String?
    }

    public let schemaVersion: Int
    public let id: String
    public let created: Date
    public let profile: String
    public let targets: [String]
    public let command: String
    public var jobs: [Job] = []
    /// Tasks of earlier campaigns, still pending or running at submission, that this one waits for
    /// instead of submitting the stage again.
    public var adopted: [Task] = []
    /// Stages that were up to date at submission.
    public var cached: [String] = []
    public var cancelled: Date?

    init(id: String, profile: String, targets: [String], command: String) {
        schemaVersion = Campaign.currentSchemaVersion
        self.id = id
        created = Date()
        self.profile = profile
        self.targets = targets
        self.command = command
    }

    /// Every task this campaign submitted, then those it adopted.
    public var tasks: [Task] { submittedTasks + adopted }

    public var submittedTasks: [Task] {
        jobs.flatMap { job in
            job.stages.enumerated().map { Task(stage: $1, jobID: job.jobID, index: $0, directory: job.directory, campaign: id) }
        }
    }
}

/// The campaigns of one cache.
public struct CampaignStore: Sendable {
    public let store: CacheStore
    public init(store: CacheStore) { self.store = store }

    var root: URL { store.root.appendingPathComponent("campaigns") }
    func directory(_ id: String) -> URL { root.appendingPathComponent(id) }
    public func snapshotURL(_ id: String) -> URL { directory(id).appendingPathComponent("snapshot.json") }
    func campaignURL(_ id: String) -> URL { directory(id).appendingPathComponent("campaign.json") }

    /// A new campaign's directory with its snapshot; the id is its UTC start time and a random suffix.
    func create(profile: String, targets: [String], command: String, snapshot: PipelineSnapshot) throws -> Campaign {
        let id = "\(SlurmSubmission.stamp(Date()))-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        try FileIO.createDirectory(directory(id))
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(snapshot), to: snapshotURL(id))
        let campaign = Campaign(id: id, profile: profile, targets: targets, command: command)
        try save(campaign)
        return campaign
    }

    public func save(_ campaign: Campaign) throws {
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(campaign), to: campaignURL(campaign.id))
    }

    public func load(_ id: String) throws -> Campaign {
        let url = campaignURL(id)
        guard let data = try? Data(contentsOf: url) else { throw CampaignError.unknownCampaign(id: id, known: ids()) }
        let campaign: Campaign
        do { campaign = try RecordCoding.decoder().decode(Campaign.self, from: data) } catch {
            throw CampaignError.unreadable(path: url.path, reason: "malformed campaign: \(RecordFile.describe(error))")
        }
        guard campaign.schemaVersion <= Campaign.currentSchemaVersion else {
            throw CampaignError.unreadable(path: url.path, reason: "written by a newer bnrepro (campaign format \(campaign.schemaVersion), this one reads up to \(Campaign.currentSchemaVersion))")
        }
        return campaign
    }

    public func snapshot(_ id: String) throws -> PipelineSnapshot {
        try PipelineSnapshot.load(snapshotURL(id))
    }

    /// Ids, oldest first (they start with the UTC time).
    public func ids() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && FileIO.exists(campaignURL($0)) }.sorted()
    }

    /// Every campaign that reads; one that does not is reported through `problems`, not hidden.
    public func all(problems: inout [String]) -> [Campaign] {
        ids().compactMap { id in
            do { return try load(id) } catch { problems.append("\(error)"); return nil }
        }
    }
}

extension PipelineSnapshot {
    public static func load(_ url: URL) throws -> PipelineSnapshot {
        guard let data = try? Data(contentsOf: url) else { throw CampaignError.unreadable(path: url.path, reason: "no campaign snapshot here") }
        do { return try RecordCoding.decoder().decode(PipelineSnapshot.self, from: data) } catch {
            throw CampaignError.unreadable(path: url.path, reason: "malformed campaign snapshot: \(RecordFile.describe(error))")
        }
    }
}
