import Foundation
import Pipeline

/// One array task as `squeue` shows it.
public struct SlurmQueueEntry: Sendable, Equatable {
    public let id: String        // "1234_5"
    public let state: String     // PENDING, RUNNING, COMPLETING, …
    public let reason: String    // why pending, or "None"
    public let node: String
}

public enum SlurmError: Error, CustomStringConvertible, Equatable {
    case toolMissing(String)
    case submissionFailed(group: String, stages: Int, detail: String)

    public var description: String {
        switch self {
        case .toolMissing(let tool):
            return "the Slurm command '\(tool)' is not on the PATH; --executor slurm runs on a machine that can submit jobs"
        case .submissionFailed(let group, let stages, let detail):
            return "sbatch refused the job for '\(group)' (\(stages) stage\(stages == 1 ? "" : "s")): \(detail)"
        }
    }
}

/// The Slurm commands the executor uses: sbatch, squeue, scancel and (when accounting works) sacct.
/// Each runs as a child process with argument arrays, never through a shell.
public struct SlurmClient: Sendable {
    /// Added to the environment of every command; sbatch passes its environment on to the job.
    public var environment: [String: String]

    public init(environment: [String: String] = [:]) { self.environment = environment }

    public struct Result: Sendable {
        public let status: Int32
        public let out: String
        public let err: String
        public var detail: String {
            let text = (err + "\n" + out).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? "exit status \(status)" : text
        }
    }

    public func run(_ tool: String, _ arguments: [String]) throws -> Result {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        guard let url = ExecutablePath.locate(tool, environment: env) else { throw SlurmError.toolMissing(tool) }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // stderr on a thread of its own (not a dispatch queue, whose threads may all be waiting on
        // jobs), so that neither pipe can fill up and stall the tool.
        let errText = LockedText()
        let errDone = DispatchSemaphore(value: 0)
        let reader = Thread {
            errText.set(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            errDone.signal()
        }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: errText.value)
    }

    /// Submits a script; returns the job id (`--parsable` prints `id` or `id;cluster`).
    public func submit(script: URL, options: [String], group: String, stages: Int) throws -> String {
        let result = try run("sbatch", ["--parsable"] + options + [script.path])
        let first = result.out.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let id = String(first.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces)
        guard result.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError.submissionFailed(group: group, stages: stages, detail: result.detail)
        }
        return id
    }

    /// The queued and running tasks of these jobs, one per array task, or nil when squeue failed (the
    /// controller is busy or down: the caller keeps waiting rather than declaring jobs lost).
    public func queue(jobIDs: [String]) -> [String: SlurmQueueEntry]? {
        if jobIDs.isEmpty { return [:] }
        guard let result = try? run("squeue", ["--noheader", "--array", "--jobs=\(jobIDs.joined(separator: ","))",
                                               "--format=%i|%T|%r|%N"]) else { return nil }
        // A job that has left the controller's memory makes squeue fail with this; it is simply gone.
        if result.status != 0 {
            return result.err.contains("Invalid job id") ? [:] : nil
        }
        return SlurmClient.parseQueue(result.out)
    }

    static func parseQueue(_ text: String) -> [String: SlurmQueueEntry] {
        var entries: [String: SlurmQueueEntry] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 4 else { continue }
            entries[f[0]] = SlurmQueueEntry(id: f[0], state: f[1], reason: f[2], node: f[3])
        }
        return entries
    }

    /// How accounting saw a task end ("FAILED, exit 1:0"), when sacct exists and accounting is on.
    public func accounting(task: String) -> String? {
        guard let result = try? run("sacct", ["--noheader", "--parsable2", "--allocations", "--jobs=\(task)",
                                              "--format=State,ExitCode"]),
              result.status == 0,
              let line = result.out.split(whereSeparator: \.isNewline).first else { return nil }
        let f = line.split(separator: "|").map(String.init)
        return f.count == 2 ? "\(f[0]), exit \(f[1])" : nil
    }

    public func cancel(jobIDs: [String]) -> Result? {
        jobIDs.isEmpty ? nil : try? run("scancel", jobIDs)
    }

    /// True when a controller answers: what the integration tests check before running.
    public func controllerReachable() -> Bool {
        guard let result = try? run("scontrol", ["ping"]) else { return false }
        return result.status == 0 && result.out.contains("UP")
    }
}
