import Foundation
import Pipeline

/// How a campaign's task stands, read from what the job left (its status file) and, while it has not
/// ended, from squeue; sacct, when accounting works, says how a task that vanished ended.
public enum CampaignTaskState: Sendable, Equatable {
    case pending(reason: String)
    case running(node: String)
    case succeeded
    case failed(exitStatus: Int32)
    /// `bnrepro cancel` stopped it (or removed it before it started).
    case cancelled(whileRunning: Bool)
    /// Gone from the queue without a status file.
    case vanished(detail: String)
    /// squeue did not answer, and there is no status file yet.
    case unknown

    /// Still pending or running: a rerun adopts it rather than submit the stage again.
    public var isLive: Bool {
        switch self {
        case .pending, .running: return true
        default: return false
        }
    }

    public var summary: String {
        switch self {
        case .pending(let reason): return reason == "None" ? "pending" : "pending (\(reason))"
        case .running(let node): return "running on \(node)"
        case .succeeded: return "done"
        case .failed(let code):
            return "failed with exit status \(code)" + (code == 143 ? " (SIGTERM: cancelled, or the time limit with no requeue left)" : "")
        case .cancelled(let running): return running ? "cancelled while it ran" : "cancelled before it started"
        case .vanished(let detail): return detail
        case .unknown: return "unknown (squeue did not answer)"
        }
    }
}

/// Reads the state of campaigns' tasks: one squeue call for all of them.
public struct CampaignMonitor: Sendable {
    public let store: CacheStore
    public let client: SlurmClient

    public init(store: CacheStore, client: SlurmClient) {
        self.store = store
        self.client = client
    }

    public func states(of tasks: [Campaign.Task], cancelled: Set<String> = []) -> [Campaign.Task: CampaignTaskState] {
        var result: [Campaign.Task: CampaignTaskState] = [:]
        var open: [Campaign.Task] = []
        func ended(_ task: Campaign.Task, _ code: Int32) -> CampaignTaskState {
            if code == 0 { return .succeeded }
            return cancelled.contains(task.campaign) && code == 143 ? .cancelled(whileRunning: true) : .failed(exitStatus: code)
        }
        for task in tasks {
            if let code = SlurmExecutor.exitStatus(statusFile(task)) {
                result[task] = ended(task, code)
            } else {
                open.append(task)
            }
        }
        guard !open.isEmpty else { return result }
        // squeue may be missing where status only reads the cache (a laptop with the cache mounted).
        let queue = ExecutablePath.locate("squeue", environment: ProcessInfo.processInfo.environment.merging(client.environment) { $1 }) == nil
            ? nil : client.queue(jobIDs: Array(Set(open.map(\.jobID))).sorted())
        for task in open {
            // A status file may have appeared while squeue ran.
            if let code = SlurmExecutor.exitStatus(statusFile(task)) {
                result[task] = ended(task, code)
            } else if let queue {
                if let entry = queue[task.slurmID] {
                    result[task] = entry.state == "PENDING" || entry.state == "REQUEUED" || entry.state == "REQUEUE_HOLD"
                        ? .pending(reason: entry.reason) : .running(node: entry.node)
                } else if cancelled.contains(task.campaign) {
                    result[task] = .cancelled(whileRunning: FileIO.exists(outputFile(task)))
                } else {
                    result[task] = .vanished(detail: vanished(task))
                }
            } else {
                result[task] = .unknown
            }
        }
        return result
    }

    public func statusFile(_ task: Campaign.Task) -> URL {
        SlurmJobScript.statusFile(task: task.index, in: store.root.appendingPathComponent(task.directory))
    }

    public func outputFile(_ task: Campaign.Task) -> URL {
        SlurmJobScript.outputFile(jobID: task.jobID, index: task.index, in: store.root.appendingPathComponent(task.directory))
    }

    private func vanished(_ task: Campaign.Task) -> String {
        var text: String
        if !FileIO.exists(outputFile(task)) {
            text = "never started: removed from the queue, most likely because a job it waited for failed (--kill-on-invalid-dep)"
        } else {
            text = "left the queue without an exit status: killed, its node failed, or the node does not see the cache"
        }
        if let accounting = client.accounting(task: task.slurmID) { text += " (sacct: \(accounting))" }
        return text
    }
}

