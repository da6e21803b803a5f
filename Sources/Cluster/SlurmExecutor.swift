import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Runs each stage as a Slurm batch job: the same `bnrepro exec <key> --cache <dir>` that `local`
/// runs, on a compute node, against the same cache directory (a shared filesystem). Keys, records and
/// objects are exactly those `local` makes, so the two executors' caches are interchangeable.
///
/// The runner hands over every ready stage at once (`prepare`); the stages of one pipeline.json entry
/// (a matrix) become one job array, throttled to `arrayThrottle` tasks at a time. Stages are submitted
/// when their inputs are cached, so dependencies hold without `--dependency`. Each task's end is read
/// from the exit-status file its script writes; squeue says whether it is still pending or running,
/// and sacct, when accounting is on, says why a task that vanished without a status file died.
public struct SlurmExecutor: Executor {
    public struct Configuration: Sendable {
        /// The bnrepro binary the jobs run: it must be reachable from the compute nodes.
        public var worker: URL
        /// Resources per pipeline.json entry (StageResources.table).
        public var resources: [String: StageResources] = [:]
        /// From the command line: wins over pipeline.json.
        public var commandLine = StageResources()
        /// Most tasks of one array running at once (sbatch `--array=…%N`); 0 for no limit.
        public var arrayThrottle = 32
        public var pollInterval = 2.0
        /// How long a task may be gone from squeue without its status file before it counts as lost:
        /// on a network filesystem the file can take a moment to show on the submitting host.
        public var lostAfter = 15.0
        /// When a job stops its stage to save progress before its time limit, and how often it may requeue itself.
        public var timeLimit = SlurmJobScript.TimeLimit()

        public init(worker: URL) { self.worker = worker }
    }

    public let name = "slurm"
    public let configuration: Configuration
    public let client: SlurmClient
    private let jobs = SlurmJobTable()

    public init(configuration: Configuration, client: SlurmClient = SlurmClient()) {
        self.configuration = configuration
        self.client = client
    }

    public func prepare(_ launches: [StageLaunch], store: CacheStore) {
        var groups: [String] = []
        var members: [String: [ActionSpec]] = [:]
        let adoptable = CampaignAdoption(store: store, client: client).liveTasks(for: launches)
        for launch in launches {
            if let task = adoptable[launch.spec.key] {
                jobs.adopt(key: launch.spec.key, task: task)
                continue
            }
            if members[launch.stage.group] == nil { groups.append(launch.stage.group) }
            members[launch.stage.group, default: []].append(launch.spec)
        }
        for group in groups { submit(group: group, specs: members[group] ?? [], store: store) }
    }

    public func execute(_ spec: ActionSpec, store: CacheStore, progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome {
        if jobs.entry(spec.key) == nil { submit(group: spec.stage, specs: [spec], store: store) }
        switch jobs.entry(spec.key) {
        case .submitted(let task)?: return follow(task, spec: spec, store: store, progress: progress)
        case .refused(let reason)?: return .failed(reason: reason, logTail: "")
        case nil: return .failed(reason: "stage '\(spec.stage)' was not submitted to Slurm", logTail: "")
        }
    }

    /// On Ctrl-C (or SIGTERM, SIGHUP): cancels every job this run submitted that has not finished, says
    /// which, and exits. Cached results stay; a rerun submits only what is still missing.
    public func cancelJobsOnInterrupt(console: Console) {
        let jobs = self.jobs, client = self.client
        jobs.onInterrupt { sig in
            let ids = jobs.cancel()
            if ids.isEmpty {
                console.note("interrupted; no Slurm jobs of this run were still open")
            } else {
                console.note("interrupted; cancelling Slurm job\(ids.count == 1 ? "" : "s") \(ids.joined(separator: ", "))")
                if let result = client.cancel(jobIDs: ids), result.status != 0 {
                    console.note("scancel: \(result.detail)")
                }
            }
            // A submission that was under way when the signal came has been recorded by now.
            let late = jobs.cancel()
            if !late.isEmpty { _ = client.cancel(jobIDs: late) }
            exit(128 + sig)
        }
    }

    // MARK: submitting

    private func submit(group: String, specs: [ActionSpec], store: CacheStore) {
        guard !specs.isEmpty else { return }
        let keys = specs.map(\.key), stages = specs.map(\.stage)
        do {
            let job = try SlurmSubmission(configuration: configuration, client: client, store: store)
                .submit(group: group, ids: keys, stages: stages, mode: .keys)
            jobs.add(jobID: job.jobID, keys: keys, stages: stages, directory: job.directory)
        } catch {
            jobs.refuse(keys: keys, reason: "\(error)")
        }
    }

    // MARK: following a task

    private func follow(_ task: SlurmTask, spec: ActionSpec, store: CacheStore,
                        progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome {
        let statusURL = task.statusFile
        let outputURL = SlurmJobScript.outputFile(jobID: task.jobID, index: task.index, in: task.directory)
        var output = SlurmOutputReader(outputURL)
        var lastState = ""
        var goneSince: Date?
        progress(StageProgress(message: task.campaign.map { "following Slurm job \(task.id) of campaign \($0)" } ?? "Slurm job \(task.id) submitted",
                               fraction: nil))
        while true {
            jobs.parkIfCancelled()
            output.forward(to: progress)
            if let code = SlurmExecutor.exitStatus(statusURL) {
                jobs.parkIfCancelled()
                jobs.finished(task)
                output.forward(to: progress)
                return finish(task, code: code, spec: spec, store: store, outputURL: outputURL)
            }
            if let queue = jobs.queue(using: client, maxAge: configuration.pollInterval) {
                if let entry = queue[task.id] {
                    goneSince = nil
                    let state = entry.state == "PENDING" ? (entry.reason == "None" ? "pending" : "pending (\(entry.reason))") : "\(entry.state.lowercased()) on \(entry.node)"
                    if state != lastState {
                        lastState = state
                        progress(StageProgress(message: "Slurm job \(task.id) \(state)", fraction: nil))
                    }
                } else if SlurmExecutor.exitStatus(statusURL) == nil {
                    let since = goneSince ?? Date()
                    goneSince = since
                    if Date().timeIntervalSince(since) >= configuration.lostAfter {
                        jobs.finished(task)
                        return lost(task, outputURL: outputURL)
                    }
                }
            }
            jobs.pause(configuration.pollInterval)
        }
    }

    static func exitStatus(_ url: URL) -> Int32? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func finish(_ task: SlurmTask, code: Int32, spec: ActionSpec, store: CacheStore, outputURL: URL) -> ExecutionOutcome {
        var head = "Slurm job \(task.id) exited with status \(code)"
        if code > 128 { head += " (signal \(code - 128)\(code == 143 ? ": cancelled or out of time" : ""))" }
        if code == 0 { head += " but left no action record" }
        switch outcome(of: spec, store: store, exitStatus: code, fallback: head) {
        case .succeeded(let record): return .succeeded(record)
        case .corruptInput(let reason): return .corruptInput(reason)
        case .interrupted(let sig): return .interrupted(signal: sig)
        case .failed(let reason, let tail):
            let full = reason == head ? head : "\(head): \(reason)"
            return .failed(reason: "\(full) (job output: \(outputURL.path))",
                           logTail: tail.isEmpty ? (LogTail.read(outputURL) ?? "") : tail)
        }
    }

    private func lost(_ task: SlurmTask, outputURL: URL) -> ExecutionOutcome {
        var reason = "Slurm job \(task.id) left the queue without writing its exit status"
        if let accounting = client.accounting(task: task.id) { reason += " (sacct: \(accounting))" }
        reason += "; it was killed, its node failed, or the node does not see the cache directory (job output: \(outputURL.path))"
        return .failed(reason: reason, logTail: (LogTail.read(outputURL) ?? ""))
    }
}

/// Reads a task's Slurm output file as it grows: progress lines go to the console, the rest is log.
struct SlurmOutputReader {
    let url: URL
    private var offset: UInt64 = 0
    private var lines = ProgressLines()

    init(_ url: URL) { self.url = url }

    mutating func forward(to progress: @Sendable (StageProgress) -> Void) {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { return }
        offset += UInt64(data.count)
        lines.feed(data, to: progress)
    }
}
