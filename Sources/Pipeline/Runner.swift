import Foundation

public struct RunOptions: Sendable {
    public var targets: [String] = []
    public var force = false
    public var dryRun = false
    public var jobs = 1
    public var keepGoing = false
    public init() {}
}

public struct RunSummary: Sendable {
    public var ran: [String] = []
    public var cached: [String] = []
    public var failed: [String] = []
    /// Stages not run because something they need failed, or because the run stopped.
    public var skipped: [String] = []
    /// Stages a signal stopped while they ran; nothing of them was kept, so a rerun redoes exactly these.
    public var interrupted: [String] = []
    /// The signal that stopped the run.
    public var interruptedBy: Int32?
    public var succeeded: Bool { failed.isEmpty && skipped.isEmpty && interrupted.isEmpty && interruptedBy == nil }
}

/// Runs the stages a target needs in topological order, up to `jobs` at once, reusing every stage
/// whose key has a record. A failure stops its dependents; without `keepGoing` nothing new starts.
public struct Runner: Sendable {
    public let pipeline: ResolvedPipeline
    public let store: CacheStore
    public let executor: any Executor
    public let console: Console
    /// Where `publish` directories are relative to (the directory of pipeline.json).
    public let projectDirectory: URL
    /// Asked for a stage's result before it is computed (`run --pull`); nil: compute what is not cached.
    public var source: (any RecordSource)?

    public init(pipeline: ResolvedPipeline, store: CacheStore, executor: any Executor, console: Console, projectDirectory: URL) {
        self.pipeline = pipeline
        self.store = store
        self.executor = executor
        self.console = console
        self.projectDirectory = projectDirectory
    }

    public func run(_ options: RunOptions) throws -> RunSummary {
        store.removeDeadWork()
        let stages = try pipeline.closure(of: options.targets)
        var forced = options.force ? try pipeline.forcedStages(targets: options.targets) : []
        if options.dryRun { return dryRun(stages, forced: forced) }
        if let problem = store.restoreReserve() {
            console.note("warning: cannot keep the cache's reserve for failure records (\(problem)); a full disk may leave a failure unrecorded")
        }
        // A corrupted input found by a worker is quarantined; planning again reruns its producer. An
        // input still corrupt on the last attempt fails its stage (`schedule`), so nothing stays pending.
        var ranBefore: [String] = []
        for attempt in 1...Runner.attempts {
            let (attempted, corrupt) = try schedule(stages, forced: forced, options: options, lastAttempt: attempt == Runner.attempts)
            var summary = attempted
            summary.ran = ranBefore + summary.ran.filter { !ranBefore.contains($0) }
            summary.cached.removeAll { ranBefore.contains($0) }
            if !corrupt || summary.interruptedBy != nil || attempt == Runner.attempts { return summary }
            console.note("a cached input was corrupt and has been quarantined; planning again")
            forced.subtract(summary.ran)
            ranBefore = summary.ran
        }
        return RunSummary()
    }

    /// Plans per run: the first finds a corrupt input, the second reruns its producer, the last gives up.
    static let attempts = 3

    /// The action for a stage whose dependencies all have records, or nil while one does not.
    public func spec(for stage: ResolvedStage, outputs: [String: [String: OutputRef]]) -> ActionSpec? {
        pipeline.actionSpec(for: stage, outputs: outputs)
    }

    private func dryRun(_ stages: [ResolvedStage], forced: Set<String>) -> RunSummary {
        var outputs: [String: [String: OutputRef]] = [:]
        var summary = RunSummary()
        let status = StatusReport(pipeline: pipeline, store: store)
        for stage in stages {
            if let spec = spec(for: stage, outputs: outputs), !forced.contains(stage.name),
               let record = store.record(spec.key) ?? (stage.publish == nil ? store.pulledRecordWithoutObjects(spec.key) : nil) {
                outputs[stage.name] = record.outputs
                summary.cached.append(stage.name)
                console.note("cached       \(stage.name)")
            } else {
                summary.ran.append(stage.name)
                let why = forced.contains(stage.name) ? "forced" : status.explain(stage, outputs: outputs)
                console.note("would run    \(stage.name)  (\(why))")
            }
        }
        return summary
    }

    /// Runs one stage on the executor in the background; its outcome arrives through `completions`.
    private func start(_ launch: StageLaunch, posting completions: Completions) {
        let started = Date()
        let exec = executor, store = self.store, console = self.console
        let stage = launch.stage, spec = launch.spec
        DispatchQueue.global().async {
            let outcome = exec.execute(spec, store: store) { console.progress(stage.name, $0) }
            completions.post((stage, spec, outcome, started))
        }
    }

    /// Records what became of a finished stage: its outputs feed the stages after it, a failure stops
    /// the run unless `keepGoing`, a corrupt input sends the run round again (unless this was the last
    /// attempt), an interruption stops it.
    private func settle(_ completion: Completions.Entry, state: SchedulerState, keepGoing: Bool, lastAttempt: Bool) throws {
        let (stage, spec, outcome, started) = completion
        switch outcome {
        case .succeeded(let record):
            state.complete(stage.name, record.outputs)
            state.summary.ran.append(stage.name)
            console.finished(stage.name, seconds: Date().timeIntervalSince(started))
            try publish(stage, record)
        case .failed(let reason, let tail):
            state.mark(stage.name, .failed)
            state.summary.failed.append(stage.name)
            console.failed(stage.name, reason: reason, logTail: tail)
            if !keepGoing { state.stop = true }
        case .corruptInput(let reason) where lastAttempt:
            let why = "its input is still corrupt after quarantine and \(Runner.attempts) attempts: \(reason)"
            state.mark(stage.name, .failed)
            state.summary.failed.append(stage.name)
            console.failed(stage.name, reason: why, logTail: "")
            if !keepGoing { state.stop = true }
        case .corruptInput(let reason):
            state.mark(stage.name, .pending)
            state.corrupt = true
            state.stop = true
            console.note("\(stage.name): \(reason)")
        case .interrupted(let sig):
            state.mark(stage.name, .interrupted)
            state.summary.interrupted.append(stage.name)
            state.summary.interruptedBy = sig
            console.interrupted(stage.name, signal: InterruptSignals.name(sig))
            do { try RunnerRecord(started: started, executor: executor.name).writeInterruption(spec, signal: sig, store: store) } catch {
                console.note("\(stage.name): the interruption could not be recorded: \(error)")
            }
            state.stop = true
        }
    }

    private func schedule(_ stages: [ResolvedStage], forced: Set<String>, options: RunOptions,
                          lastAttempt: Bool) throws -> (RunSummary, Bool) {
        let state = SchedulerState(stages: stages)
        let completions = Completions()
        while true {
            let launches = try settleWithoutRunning(state, forced: forced, jobs: max(1, options.jobs))
            // Launched together, so that a batch executor can submit them as one (a Slurm job array).
            if !launches.isEmpty {
                for launch in launches { console.started(launch.stage.name) }
                executor.prepare(launches, store: store)
            }
            for launch in launches { start(launch, posting: completions) }
            if state.running == 0 { break }
            for completion in completions.waitForSome() {
                try settle(completion, state: state, keepGoing: options.keepGoing, lastAttempt: lastAttempt)
            }
        }
        if state.stop && (!state.corrupt || state.summary.interruptedBy != nil) {
            for stage in stages where state.status(stage.name) == .pending {
                state.summary.skipped.append(stage.name)
            }
        }
        return (state.summary, state.corrupt)
    }

    /// Settles every ready stage that can be settled without running (cache hits, and skips after a
    /// failure), over and over until nothing changes, and returns the stages to start now.
    private func settleWithoutRunning(_ state: SchedulerState, forced: Set<String>, jobs: Int) throws -> [StageLaunch] {
        var launches: [StageLaunch] = []
        var progressed = true
        while progressed {
            progressed = false
            ready: for stage in state.pendingReady() {
                if state.hasFailedDep(stage) {
                    state.mark(stage.name, .skipped); state.summary.skipped.append(stage.name); progressed = true
                    console.note("skipped \(stage.name): a stage it needs failed")
                    continue
                }
                guard let spec = spec(for: stage, outputs: state.outputs) else { continue }
                let mayReuse = !forced.contains(stage.name) && !state.mustCompute.contains(stage.name)
                if mayReuse, let record = cachedRecord(stage, spec) {
                    try reuse(record, of: stage, spec: spec, state: state)
                    progressed = true
                } else if !state.stop && state.running < jobs {
                    // A demoted dependency is pending again: every other stage of this ready list that reads it
                    // must wait for it too, so the list is made again.
                    if demotePulledDependencies(of: stage, state: state) { progressed = true; break ready }
                    if let problem = store.recordState(spec.key).problem { console.note("\(stage.name): \(problem); computing it again") }
                    try store.writeSpec(spec)
                    state.mark(stage.name, .running)
                    launches.append(StageLaunch(stage: stage, spec: spec))
                    progressed = true
                }
            }
        }
        return launches
    }

    private func reuse(_ record: ActionRecord, of stage: ResolvedStage, spec: ActionSpec, state: SchedulerState) throws {
        if !record.outputs.values.allSatisfy(store.has) {
            state.withoutObjects[stage.name] = record
        }
        state.complete(stage.name, record.outputs)
        state.summary.cached.append(stage.name)
        console.cached(stage.name)
        try store.markLatest(key: spec.key, ofStage: stage.name)
        try publish(stage, record)
    }

    /// The stage is about to run here, and reads its dependencies' outputs: those that were pulled as records
    /// only get their bytes fetched now, or, failing that, go back to pending to be computed here first.
    /// True when one went back.
    private func demotePulledDependencies(of stage: ResolvedStage, state: SchedulerState) -> Bool {
        let demoted = stage.deps.filter { dep in
            guard let record = state.withoutObjects.removeValue(forKey: dep) else { return false }
            if let source, source.fetchObjects(of: record, into: store) { return false }
            console.note("\(dep): only its record was pulled, and \(stage.name) reads its outputs; computing it here")
            state.mark(dep, .pending)
            state.mustCompute.insert(dep)
            state.summary.cached.removeAll { $0 == dep }
            return true
        }
        return !demoted.isEmpty
    }

    /// The record that spares computing the stage: this cache's own, else a pulled one. A pulled record
    /// whose objects were left on the remote serves as long as nothing here reads them (its digests chain
    /// the keys of later stages), except for a stage that publishes, which needs its bytes now.
    private func cachedRecord(_ stage: ResolvedStage, _ spec: ActionSpec) -> ActionRecord? {
        if let record = store.record(spec.key) { return record }
        let needsObjects = stage.publish != nil
        if let pulled = store.pulledRecordWithoutObjects(spec.key) {
            if !needsObjects { return pulled }
            return source.flatMap { $0.fetchObjects(of: pulled, into: store) ? pulled : nil }
        }
        return source?.fetchRecord(for: spec, withObjects: needsObjects, into: store)
    }

    private func publish(_ stage: ResolvedStage, _ record: ActionRecord) throws {
        try StagePublisher(store: store, projectDirectory: projectDirectory).publish(stage: stage.name, to: stage.publish, record)
    }
}

/// Finished stages, handed from executor threads to the scheduling thread.
final class Completions: @unchecked Sendable {
    typealias Entry = (stage: ResolvedStage, spec: ActionSpec, outcome: ExecutionOutcome, started: Date)
    private let condition = NSCondition()
    private var entries: [Entry] = []

    func post(_ entry: Entry) {
        condition.lock()
        entries.append(entry)
        condition.signal()
        condition.unlock()
    }

    /// Blocks until at least one stage has finished, then takes all that have.
    func waitForSome() -> [Entry] {
        condition.lock()
        defer { condition.unlock() }
        while entries.isEmpty { condition.wait() }
        let taken = entries
        entries.removeAll()
        return taken
    }
}

/// Stage states during one run; touched only by the scheduling thread.
final class SchedulerState {
    enum Status { case pending, running, done, failed, skipped, interrupted }
    private let stages: [ResolvedStage]
    private var statuses: [String: Status]
    private(set) var outputs: [String: [String: OutputRef]] = [:]
    /// Stages whose pulled record is not enough: a stage that runs here reads their outputs.
    var mustCompute: Set<String> = []
    /// Stages settled by a pulled record whose objects are not here (see `Runner.cachedRecord`).
    var withoutObjects: [String: ActionRecord] = [:]
    var summary = RunSummary()
    /// Nothing new starts: a stage failed (without keep-going), a signal came, or an input was corrupt.
    var stop = false
    /// A worker found a corrupt input: the run plans again.
    var corrupt = false

    init(stages: [ResolvedStage]) {
        self.stages = stages
        statuses = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, .pending) })
    }

    var running: Int { statuses.values.filter { $0 == .running }.count }
    func status(_ name: String) -> Status? { statuses[name] }
    func mark(_ name: String, _ s: Status) { statuses[name] = s }
    func complete(_ name: String, _ o: [String: OutputRef]) { statuses[name] = .done; outputs[name] = o }

    /// Pending stages whose deps are all settled (done, failed or skipped).
    func pendingReady() -> [ResolvedStage] {
        stages.filter { s in
            statuses[s.name] == .pending && s.deps.allSatisfy { [.done, .failed, .skipped].contains(statuses[$0] ?? .done) }
        }
    }

    func hasFailedDep(_ stage: ResolvedStage) -> Bool {
        stage.deps.contains { statuses[$0] == .failed || statuses[$0] == .skipped }
    }
}
