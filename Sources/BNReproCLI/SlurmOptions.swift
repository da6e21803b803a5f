import ArgumentParser
import Foundation
import Cluster
import Pipeline

enum ExecutorChoice: String, ExpressibleByArgument, CaseIterable {
    case local, slurm
}

/// `run`'s options for `--executor slurm`. Resources given here apply to every stage and win over the
/// `resources` of pipeline.json; per-stage values go in pipeline.json or `--set <stage>.resources.<name>=…`.
struct SlurmOptions: ParsableArguments {
    @Option(name: .customLong("slurm-partition"), help: "Slurm: partition for every stage.")
    var partition: String?

    @Option(name: .customLong("slurm-time"), help: "Slurm: time limit for every stage (minutes, or e.g. 2:00:00, 1-12:00:00).")
    var time: String?

    @Option(name: .customLong("slurm-mem"), help: "Slurm: memory for every stage (megabytes, or e.g. 4G).")
    var mem: String?

    @Option(name: .customLong("slurm-cpus"), help: "Slurm: CPUs per stage (sbatch --cpus-per-task).")
    var cpus: Int?

    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Slurm: one more sbatch option for every job, e.g. --sbatch-arg=--qos=high (repeatable).", valueName: "option"))
    var sbatchArgs: [String] = []

    @Option(name: .customLong("array-throttle"), help: "Slurm: most tasks of one job array (a matrix) running at once; 0 for no limit.")
    var arrayThrottle = 32

    @Option(name: .customLong("slurm-poll"), help: "Slurm: seconds between looks at squeue and the jobs' exit-status files.")
    var pollInterval = 2.0

    @Option(name: .customLong("slurm-lost-after"), help: "Slurm: seconds a job may be gone from squeue without its exit-status file before it counts as lost (network filesystems can be slow to show the file).")
    var lostAfter = 15.0

    @Option(name: .customLong("slurm-grace"), help: "Slurm: seconds before a job's time limit at which its stage is stopped to save its progress, and the job requeues itself.")
    var grace = 300

    @Option(name: .customLong("max-resubmits"), help: "Slurm: times a job may requeue itself at its time limit before it fails (0: never).")
    var maxResubmits = 5

    @Option(name: .customLong("slurm-worker"), help: "Slurm: the bnrepro binary jobs run (default: this one; it must be visible on the compute nodes).")
    var worker: String?

    func validate() throws {
        if let time, !StageResources.isTime(time) { throw ValidationError("--slurm-time '\(time)': expected minutes, MM:SS, HH:MM:SS or D-HH:MM:SS") }
        if let mem, !StageResources.isMemory(mem) { throw ValidationError("--slurm-mem '\(mem)': expected megabytes or a size like 4G") }
        if let cpus, cpus < 1 { throw ValidationError("--slurm-cpus must be at least 1") }
        if arrayThrottle < 0 { throw ValidationError("--array-throttle must be 0 (no limit) or more") }
        if !(pollInterval > 0) { throw ValidationError("--slurm-poll must be more than 0 seconds") }
        if grace < 1 { throw ValidationError("--slurm-grace must be at least 1 second") }
        if maxResubmits < 0 { throw ValidationError("--max-resubmits must be 0 or more") }
        if !(lostAfter >= 0) { throw ValidationError("--slurm-lost-after must be 0 seconds or more") }
        if let bad = sbatchArgs.first(where: { !$0.hasPrefix("-") }) {
            throw ValidationError("--sbatch-arg '\(bad)' is not an sbatch option; write it as one word, e.g. --sbatch-arg=--qos=high")
        }
    }

    func makeExecutor(pipeline: ResolvedPipeline, options: PipelineOptions, environment: [String: String],
                      console: Console) throws -> SlurmExecutor {
        let executor = SlurmExecutor(configuration: try configuration(pipeline: pipeline), client: SlurmClient(environment: environment))
        executor.cancelJobsOnInterrupt(console: console)
        return executor
    }

    func configuration(pipeline: ResolvedPipeline) throws -> SlurmExecutor.Configuration {
        guard ExecutablePath.locate("sbatch") != nil else { throw SlurmError.toolMissing("sbatch") }
        var config = SlurmExecutor.Configuration(worker: worker.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? SelfExecutable.url)
        config.resources = StageResources.table(of: pipeline)
        config.commandLine = StageResources(cpus: cpus, mem: mem, time: time, partition: partition, sbatchArgs: sbatchArgs)
        config.arrayThrottle = arrayThrottle
        config.pollInterval = pollInterval
        config.lostAfter = lostAfter
        config.timeLimit = SlurmJobScript.TimeLimit(graceSeconds: grace, maxRequeues: maxResubmits)
        return config
    }
}
