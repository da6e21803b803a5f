import Foundation
import Pipeline

/// One sbatch call: a job directory, its script, the exact command kept beside it, and the job id.
/// Both the waiting executor and a detached campaign submit through here.
struct SlurmSubmission {
    let configuration: SlurmExecutor.Configuration
    let client: SlurmClient
    let store: CacheStore

    struct Job: Sendable {
        let jobID: String
        let directory: URL
    }

    /// Submits the stages of one pipeline.json entry as one job array; `dependency` is sbatch's
    /// `--dependency` value (`afterok:…`), if the job must wait for others.
    func submit(group: String, ids: [String], stages: [String], mode: SlurmJobScript.Mode, dependency: String? = nil) throws -> Job {
        let resources = (configuration.resources[group] ?? StageResources()).overridden(by: configuration.commandLine)
        let directory = try makeJobDirectory(group: group)
        let script = SlurmJobScript(worker: configuration.worker, cache: store.root, directory: directory,
                                    ids: ids, stages: stages, mode: mode, timeLimit: configuration.timeLimit)
        let scriptURL = directory.appendingPathComponent("job.sh")
        try FileIO.atomicWrite(Data(script.text.utf8), to: scriptURL, mode: 0o755)
        let options = sbatchOptions(group: group, count: ids.count, resources: resources, dependency: dependency)
        // For whoever reads the job directory later: the exact submission, quoted for a shell.
        let command = (["sbatch", "--parsable"] + options + [scriptURL.path]).map(SlurmJobScript.quote).joined(separator: " ")
        try? FileIO.atomicWrite(Data((command + "\n").utf8), to: directory.appendingPathComponent("sbatch.txt"))
        let jobID = try client.submit(script: scriptURL, options: options, group: group, stages: ids.count)
        try? FileIO.atomicWrite(Data((jobID + "\n").utf8), to: directory.appendingPathComponent("job-id"))
        return Job(jobID: jobID, directory: directory)
    }

    /// Options as arguments, not #SBATCH lines, and no path among them: Slurm expands % patterns in
    /// --output and --chdir, so the script sends its output to the job directory itself. `--requeue`
    /// lets a job requeue itself at its time limit even where the cluster's default is not to; a job
    /// whose dependency failed is removed by Slurm (`--kill-on-invalid-dep`) instead of pending for ever.
    func sbatchOptions(group: String, count: Int, resources: StageResources, dependency: String?) -> [String] {
        var options = ["--job-name=bnrepro:\(group)", "--output=/dev/null",
                       "--array=\(SlurmJobScript.arraySpec(count: count, throttle: configuration.arrayThrottle))"]
        if configuration.timeLimit.maxRequeues > 0 { options.append("--requeue") }
        if let dependency { options += ["--dependency=\(dependency)", "--kill-on-invalid-dep=yes"] }
        return options + resources.sbatchOptions
    }

    /// `<cache>/slurm/<group>-<UTC time>-<random>`: one per submission, so no file of an earlier job
    /// (an old exit status above all) is ever mistaken for this one's.
    private func makeJobDirectory(group: String) throws -> URL {
        let safe = String(group.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" }.prefix(40))
        let name = "\(safe)-\(SlurmSubmission.stamp(Date()))-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let url = store.root.appendingPathComponent("slurm").appendingPathComponent(name)
        try FileIO.createDirectory(url)
        return url
    }

    static func stamp(_ date: Date) -> String { stampFormat.string(from: date) }

    private static let stampFormat: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        return f
    }()
}
