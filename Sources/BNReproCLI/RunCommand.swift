import ArgumentParser
import Foundation
import Pipeline

struct RunCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Bring targets (default: every stage) up to date, running only what is not cached.",
        discussion: """
        Examples:
          bnrepro run                         every figure, default profile
          bnrepro run fig3 --force            rerun fig3 even if cached (not its inputs)
          bnrepro run train -j 2              the whole train matrix, two stages at a time
          bnrepro run --profile smoke --set train.params.epochs=1 --dry-run
        """)

    @OptionGroup var options: PipelineOptions

    @Argument(help: "Stages or matrix groups (e.g. fig3, train, train@bn=true,lr=0.1).")
    var targets: [String] = []

    @Flag(help: "Rerun the targets even when cached.") var force = false
    @Flag(name: .customLong("dry-run"), help: "Say what would run and why, run nothing.") var dryRun = false
    @Option(name: [.short, .customLong("jobs")], help: "Stages to run at once (default: 1 with local, no limit with slurm).") var jobs: Int?
    @Flag(name: .customLong("keep-going"), help: "After a failure, finish the stages that do not depend on it.") var keepGoing = false
    @Flag(name: .customLong("no-wait"), help: "Fail instead of waiting when another run holds the cache.") var noWait = false
    @Option(help: "Where stages run: local (child processes) or slurm (a batch job per stage, a job array per matrix).")
    var executor: ExecutorChoice = .local
    @OptionGroup(title: "Slurm (with --executor slurm)") var slurm: SlurmOptions

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.cacheStore()
        let console = Console()
        if let warning = NetworkFilesystem.warning(for: store.root) { console.note(warning) }
        var lock: CacheLock?
        if !dryRun {
            lock = try CacheLock(cache: store, wait: noWait ? .fail : .wait, command: CommandLine.arguments.joined(separator: " ")) {
                console.note("waiting for \($0) to finish…")
            }
        }
        defer { withExtendedLifetime(lock) {} }
        var env: [String: String] = [:]
        if let commit = GitInfo.commit(in: options.projectDirectory) { env["BNREPRO_GIT_COMMIT"] = commit }
        // Installed once the cache lock is ours: while waiting for it, a signal simply ends the process.
        let workers = WorkerProcesses()
        let interrupts = self.executor == .local && !dryRun ? workers.stopOnInterrupt(console: console) : nil
        defer { withExtendedLifetime(interrupts) {} }
        let executor: any Executor = self.executor == .slurm && !dryRun
            ? try slurm.makeExecutor(pipeline: pipeline, options: options, environment: env, console: console)
            : LocalExecutor(worker: SelfExecutable.url, environment: env.merging(LocalExecutor.threadEnvironment(jobs: jobs ?? 1)) { $1 },
                            workers: workers)
        let runner = Runner(pipeline: pipeline, store: store, executor: executor, console: console,
                            projectDirectory: options.projectDirectory)
        var runOptions = RunOptions()
        runOptions.targets = targets
        runOptions.force = force
        runOptions.dryRun = dryRun
        // Under Slurm the cluster's scheduler and --array-throttle limit what runs; -j limits submissions.
        runOptions.jobs = jobs ?? (self.executor == .slurm ? Int.max : 1)
        runOptions.keepGoing = keepGoing
        let summary = try runner.run(runOptions)
        if let sig = workers.stopSignal ?? summary.interruptedBy {
            store.removeDeadWork(includingOwn: true)
            let stopped = summary.interrupted.isEmpty ? "no stage was running" : "stopped \(summary.interrupted.joined(separator: ", "))"
            console.note("interrupted by \(InterruptSignals.name(sig)): \(stopped); ran \(summary.ran.count), cached \(summary.cached.count)")
            console.note("the cache is consistent: finished stages are kept, and a rerun redoes only what did not finish")
            throw ExitCode(128 + sig)
        }
        let verb = dryRun ? "would run" : "ran"
        var line = "profile \(pipeline.profile): \(verb) \(summary.ran.count), cached \(summary.cached.count)"
        if !summary.failed.isEmpty { line += ", failed \(summary.failed.count) (\(summary.failed.joined(separator: ", ")))" }
        if !summary.skipped.isEmpty { line += ", not run \(summary.skipped.count)" }
        console.note(line)
        if dryRun, !summary.ran.isEmpty {
            let wouldRun = Set(summary.ran)
            let estimate = CostEstimate(pending: pipeline.stages.filter { wouldRun.contains($0.name) }, store: store, registry: registry)
            console.note(EstimateTable(estimate).summary(jobs: jobs ?? 1) + " (per stage: bnrepro estimate)")
        }
        if !summary.succeeded { throw ExitCode(1) }
    }
}
