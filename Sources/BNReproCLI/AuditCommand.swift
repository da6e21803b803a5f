import ArgumentParser
import Audit
import Foundation
import Pipeline

struct AuditCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Compute cached results again from the same inputs and compare every output with the cached one.",
        discussion: """
        Each audited stage runs again as `bnrepro exec`, in a scratch cache under the cache's tmp/ that holds \
        links to its cached input objects; the real cache's objects and records are only read. Every output is \
        compared with the cached one: identical, or what differs (arrays: largest absolute and relative \
        difference; JSON: the fields, before → after; PNG: the pixels, or the text chunks). Verdicts: \
        identical; differs (exit 1); differs (threads X vs Y), reported but not a failure, when the audit ran with \
        another OpenMP thread count than the original (parallel reductions then sum in another order); could not \
        run (exit 1). By default each stage runs with the thread count its record names; OMP_NUM_THREADS or \
        --threads chooses another. Each stage's audit is kept in <cache>/audits/<key>.json (`bnrepro report` \
        shows it), the whole command's in <cache>/audits/audit.json. Examples:
          bnrepro audit                      every up-to-date stage of the profile
          bnrepro audit fig3 decode          these stages (named stages must be up to date)
          bnrepro audit --sample 3           three up-to-date stages chosen at random (the seed is printed)
          bnrepro audit train --threads 2    the train matrix, at two threads
        """)

    @OptionGroup var options: PipelineOptions

    @Argument(help: "Stages, matrix groups or figures to audit (default: every up-to-date stage).")
    var targets: [String] = []

    @Option(help: "Audit this many of the selected stages, chosen at random.") var sample: Int?
    @Option(help: "The seed that chooses the --sample stages (default: a fresh one, printed).") var seed: UInt64?
    @Option(name: .customLong("max-cpu"), help: ArgumentHelp("Audit only stages whose predicted CPU time (bnrepro estimate's model) fits this budget together, e.g. 90s, 30m, 2h.", valueName: "time"))
    var maxCPU: String?
    @Option(help: "OpenMP threads to recompute with (default: OMP_NUM_THREADS if set, else the original's).") var threads: Int?
    @Option(name: [.short, .customLong("jobs")], help: "Stages to recompute at once.") var jobs: Int = 1
    @Flag(name: .customLong("no-wait"), help: "Fail instead of waiting when another run holds the cache.") var noWait = false

    func validate() throws {
        if let sample, sample < 1 { throw ValidationError("--sample must be at least 1, got \(sample)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let maxCPU, AuditCommand.seconds(maxCPU) == nil { throw ValidationError("--max-cpu takes a time such as 90s, 30m or 2h, got '\(maxCPU)'") }
    }

    /// "90", "90s", "30m", "2h", "1d" in seconds.
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last.flatMap({ units[$0] }) { return Double(text.dropLast()).map { $0 * unit }.flatMap { $0 >= 0 ? $0 : nil } }
        return Double(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    func run(registry: KindRegistry) throws {
        let started = Date()
        let pipeline = try options.resolve(registry)
        let store = try options.existingCacheStore()
        let console = Console()
        // Like `run`: gc must not remove an object while a stage reads it, and audits/ has one writer.
        let lock = try CacheLock(cache: store, wait: noWait ? .fail : .wait, command: CommandLine.arguments.joined(separator: " ")) {
            console.note("waiting for \($0) to finish…")
        }
        defer { withExtendedLifetime(lock) {} }
        store.removeDeadWork()
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let selection = try AuditSelection(pipeline: pipeline, store: store, targets: targets, sample: sample, seed: seed,
                                           maxCPU: maxCPU.flatMap(AuditCommand.seconds)) { stages in
            Dictionary(CostEstimate(pending: stages, store: store, registry: registry).rows.map { ($0.stage, $0.cpuSeconds) }) { a, _ in a }
        }
        if sample != nil { console.note("sampled \(selection.chosen.count) stage(s) with --seed \(seed)") }
        if !selection.overBudget.isEmpty {
            let named = selection.overBudget.prefix(5).map { "\($0.stage) (\(Console.duration($0.cpuSeconds)))" }.joined(separator: ", ")
            console.note("left out \(selection.overBudget.count) stage(s) over the --max-cpu \(maxCPU ?? "") budget: \(named)\(selection.overBudget.count > 5 ? ", …" : "")")
        }

        let workers = WorkerProcesses()
        let interrupts = workers.stopOnInterrupt(console: console)
        defer { withExtendedLifetime(interrupts) {} }
        let commit = GitInfo.commit(in: options.projectDirectory)
        let auditor = StageAuditor(store: store, recompute: ScratchRecompute(store: store, worker: SelfExecutable.url, workers: workers),
                                   commit: commit, threads: threads ?? WorkerThreads.requested()) { registry.kind(named: $0)?.crossCPUTolerance }
        let audits = try audit(selection.chosen, auditor: auditor, store: store, console: console, workers: workers)
        if let sig = workers.stopSignal {
            store.removeDeadWork(includingOwn: true)
            console.note("interrupted by \(InterruptSignals.name(sig)); audits finished before it are kept")
            throw ExitCode(128 + sig)
        }
        try store.writeAuditSummary(AuditSummary(started: started, finished: Date(), profile: pipeline.profile, commit: commit,
                                                 targets: targets, sample: sample, seed: sample == nil ? nil : seed,
                                                 stages: audits, notUpToDate: selection.notUpToDate))
        print(AuditTable.render(audits, notUpToDate: selection.notUpToDate), terminator: "")
        print("written to \(store.auditSummaryURL.path)")
        if audits.contains(where: \.isFailure) { throw ExitCode(1) }
    }

    /// Audits the stages, `jobs` at once, keeping each audit as soon as it is done; in selection order.
    /// After a signal nothing new starts, and what it stopped is not kept as an audit.
    private func audit(_ chosen: [(stage: ResolvedStage, key: String)], auditor: StageAuditor, store: CacheStore,
                       console: Console, workers: WorkerProcesses) throws -> [StageAudit] {
        // Each audit with whether it could be kept; a stage stopped by a signal has no slot.
        let results = ParallelSlots<(audit: StageAudit, written: Result<Void, Error>)>(count: chosen.count)
        DispatchQueue.concurrentPerform(iterations: min(jobs, chosen.count)) { _ in
            while workers.stopSignal == nil, let i = results.claim() {
                let (stage, key) = chosen[i]
                guard let record = store.record(key) else { continue }  // up to date a moment ago: found by the selection
                console.started(stage.name)
                let audit = auditor.audit(record) { console.progress(stage.name, $0) }
                if workers.stopSignal != nil { console.interrupted(stage.name, signal: "a signal"); break }
                console.finished(stage.name, seconds: audit.wallSeconds)
                console.note("\(stage.name): \(audit.verdictText)")
                results.set(i, (audit, Result { try store.writeAudit(audit) }))
            }
        }
        let done = results.values().compactMap { $0 }
        // An audit that could not be kept is an error.
        for case .failure(let error) in done.map(\.written) { throw error }
        return done.map(\.audit)
    }
}

