import ArgumentParser
import Foundation
import Cluster
import Pipeline
import RemoteCache

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
          bnrepro run --profile paper --executor slurm --detach
                                              submit the whole campaign to Slurm and exit
          bnrepro run --profile paper --pull  take what the default remote has, compute the rest
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
    @Flag(help: "With --executor slurm: submit every stage at once, chained by job dependencies, and exit (follow with `bnrepro status`, stop with `bnrepro cancel`).")
    var detach = false
    @OptionGroup(title: "Slurm (with --executor slurm)") var slurm: SlurmOptions
    @Flag(help: "Before computing a stage, look its key up on the remote and take its result from there.") var pull = false
    @Flag(help: "After the run, upload to the remote what it computed.") var push = false
    @Option(name: .customLong("engine-plan"), help: ArgumentHelp(
        "The engine plan workers compute with: measured (this machine's, measured once and kept in ~/.cache/bnrepro/engine-plans) or default (nChw16c and oneDNN's first implementation everywhere, the engine before plans; BNREPRO_ENGINE_PLAN sets the same).",
        valueName: "measured|default")) var enginePlan: String?
    @OptionGroup(title: "Remote (with --pull or --push)") var remoteOptions: RemoteOptions

    func validate() throws {
        if detach && executor != .slurm { throw ValidationError("--detach needs --executor slurm") }
        if detach && dryRun { throw ValidationError("--detach and --dry-run do not go together; --dry-run alone says what a campaign would submit") }
        if detach && (pull || push) { throw ValidationError("--pull and --push do not go with --detach; pull first, push after the campaign") }
        if let enginePlan, !["measured", "default"].contains(enginePlan) {
            throw ValidationError("--engine-plan is measured or default, not '\(enginePlan)'")
        }
    }

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.cacheStore()
        let console = Console()
        let remote = pull || push ? try remoteOptions.resolve(options) : nil
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
        if let enginePlan { env[EngineSetup.environmentVariable] = enginePlan }
        if detach { return try submitCampaign(pipeline: pipeline, store: store, environment: env, console: console) }
        // Installed once the cache lock is ours: while waiting for it, a signal simply ends the process.
        let workers = WorkerProcesses()
        let interrupts = self.executor == .local && !dryRun ? workers.stopOnInterrupt(console: console) : nil
        defer { withExtendedLifetime(interrupts) {} }
        let executor: any Executor = self.executor == .slurm && !dryRun
            ? try slurm.makeExecutor(pipeline: pipeline, options: options, environment: env, console: console)
            : LocalExecutor(worker: SelfExecutable.url, environment: env.merging(LocalExecutor.threadEnvironment(jobs: jobs ?? 1)) { $1 },
                            workers: workers)
        var runner = Runner(pipeline: pipeline, store: store, executor: executor, console: console,
                            projectDirectory: options.projectDirectory)
        let source = pull && !dryRun ? remote.map { RemoteRecordSource(remote: $0, store: store, transfers: remoteOptions.transferSettings, console: console) } : nil
        runner.source = source
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
        if let source, let remote { line += "; pulled \(source.pulled.count) from '\(remote.name)'" }
        console.note(line)
        if push, let remote, !dryRun { try pushComputed(summary.ran, pipeline: pipeline, store: store, remote: remote, console: console) }
        if dryRun, !summary.ran.isEmpty {
            let wouldRun = Set(summary.ran)
            let estimate = CostEstimate(pending: pipeline.stages.filter { wouldRun.contains($0.name) }, store: store, registry: registry,
                                        threads: LocalExecutor.threadsPerStage(jobs: jobs ?? 1), measureSpeedup: false)
            console.note(EstimateTable(estimate).summary(jobs: jobs ?? 1) + " (per stage: bnrepro estimate)")
        }
        if !summary.succeeded { throw ExitCode(1) }
    }

    /// `--push`: what this run computed (the stages it ran that are now up to date).
    private func pushComputed(_ ran: [String], pipeline: ResolvedPipeline, store: CacheStore, remote: Remote, console: Console) throws {
        let computed = Set(ran)
        let records = StatusReport(pipeline: pipeline, store: store).states().compactMap { stage, state -> (stage: String, record: ActionRecord)? in
            guard computed.contains(stage.name), case .upToDate(let key) = state, let record = store.record(key) else { return nil }
            return (stage.name, record)
        }
        guard !records.isEmpty else { console.note("nothing computed to push"); return }
        let outcome = try RemotePush(remote: remote, store: store, transfers: remoteOptions.transferSettings, console: console).push(records)
        try PushCommand.report(outcome, remote: remote, notUpToDate: 0)
    }

    private func submitCampaign(pipeline: ResolvedPipeline, store: CacheStore, environment: [String: String], console: Console) throws {
        let submitter = CampaignSubmitter(pipeline: pipeline, store: store, configuration: try slurm.configuration(pipeline: pipeline),
                                          client: SlurmClient(environment: environment), console: console,
                                          projectDirectory: options.projectDirectory)
        let outcome = try submitter.submit(targets: targets, force: force, command: CommandLine.arguments.joined(separator: " "))
        guard let campaign = outcome.campaign else {
            console.note("profile \(pipeline.profile): nothing to submit, cached \(outcome.cached.count)")
            return
        }
        var line = "campaign \(campaign.id): submitted \(outcome.submitted.count) stage\(outcome.submitted.count == 1 ? "" : "s") in \(campaign.jobs.count) job\(campaign.jobs.count == 1 ? "" : "s")"
        if !outcome.adopted.isEmpty { line += ", adopted \(outcome.adopted.count) still queued or running from earlier campaigns" }
        console.note(line + ", cached \(outcome.cached.count)")
        console.note("follow it with `bnrepro status`; stop it with `bnrepro cancel --campaign \(campaign.id)`")
    }
}
