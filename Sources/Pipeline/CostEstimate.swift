import Foundation

/// `bnrepro estimate`: what the stages that are not cached will cost, before they run.
///
/// A stage's CPU time, at one thread, comes from the cache's action records (`RecordedCosts`): those
/// with its own params, else its kind's work (`workUnits`) times the kind's seconds per unit, else every
/// engine kind's, else a short run of the engine; a kind that runs no engine takes the median CPU time
/// of its own records, else `unknownSeconds`. With `-j` = cores every stage has one thread and its
/// wall time is its CPU time. With fewer jobs a stage has several threads (`threads`), and an engine
/// stage's wall time is its CPU time over the engine's `speedup` at that count, measured for this
/// estimate. The wall time of the whole run is a list-scheduling simulation on `jobs` slots, and the
/// critical path bounds it on an unlimited cluster.
///
/// A stage's peak memory is the largest peak resident memory among the records of its kind with the
/// same params, else among all the records of its kind. Nothing models memory from params (the work
/// counts above are of compute, and the data a kind holds in memory differs by kind), so a record with
/// other params is only a hint: a deeper network, a larger batch or more data needs more. Without a
/// record of the kind the peak is unknown, not guessed.
public struct CostEstimate: Sendable {
    public struct Row: Sendable {
        public let stage: String
        public let kind: String
        /// At one thread.
        public let cpuSeconds: Double
        /// At the estimate's threads per stage.
        public let wallSeconds: Double
        /// Where the CPU time came from: "same params (n)", "records (n)", "all records", "engine run",
        /// "no record"; ", more threads" when only records with more than one thread priced it.
        public let basis: String
        public let deps: [String]
        /// The largest `peakMemoryBytes` among the records of this kind with the same params if there
        /// are any, else among all of this kind's; nil when none has one.
        public let peakMemoryBytes: Int64?
        /// How many records the maximum is over.
        public let memoryRecords: Int
        /// Whether those records ran with this stage's params (else: other params of the same kind).
        public let memorySameParams: Bool

        init(stage: String, kind: String, cpuSeconds: Double, wallSeconds: Double? = nil, basis: String, deps: [String],
             peakMemoryBytes: Int64? = nil, memoryRecords: Int = 0, memorySameParams: Bool = false) {
            self.stage = stage
            self.kind = kind
            self.cpuSeconds = cpuSeconds
            self.wallSeconds = wallSeconds ?? cpuSeconds
            self.basis = basis
            self.deps = deps
            self.peakMemoryBytes = peakMemoryBytes
            self.memoryRecords = memoryRecords
            self.memorySameParams = memorySameParams
        }

        /// This row with its peak memory from `peaks`, the kind's records' (canonical params, peak).
        func with(params: JSONObject, peaks: [(params: String, bytes: Int64)]) -> Row {
            let own = JSONValue.object(params).canonicalText
            let same = peaks.filter { $0.params == own }
            let used = same.isEmpty ? peaks : same
            return Row(stage: stage, kind: kind, cpuSeconds: cpuSeconds, wallSeconds: wallSeconds, basis: basis, deps: deps,
                       peakMemoryBytes: used.map(\.bytes).max(), memoryRecords: used.count, memorySameParams: !same.isEmpty)
        }
    }

    public static let unknownSeconds = 5.0

    public let rows: [Row]
    /// OpenMP threads per stage (`LocalExecutor.threadEnvironment`: cores / -j, or OMP_NUM_THREADS).
    public let threads: Int
    /// How much faster the engine ran with `threads` than with one, measured for this estimate; 1 at one
    /// thread, nil when it could not be measured (no engine, or nothing of the engine's to price).
    public let speedup: Double?
    /// CPU seconds at one thread per stage: the work, whatever -j shares it out as.
    public var totalCPU: Double { rows.reduce(0) { $0 + $1.cpuSeconds } }
    /// The pending stage with the largest known peak memory: what one job's memory limit must cover.
    public var largestPeakMemory: Row? {
        rows.filter { $0.peakMemoryBytes != nil }.max { ($0.peakMemoryBytes ?? 0) < ($1.peakMemoryBytes ?? 0) }
    }

    init(rows: [Row], threads: Int = 1, speedup: Double? = 1) {
        self.rows = rows
        self.threads = threads
        self.speedup = speedup
    }

    /// The stages of `targets` (and what they need) that are not up to date.
    public init(pipeline: ResolvedPipeline, store: CacheStore, registry: KindRegistry, targets: [String],
                threads: Int = 1, measureSpeedup: Bool = true) throws {
        let wanted = Set(try pipeline.closure(of: targets).map(\.name))
        let states = StatusReport(pipeline: pipeline, store: store).states()
        self.init(pending: states.filter { wanted.contains($0.stage.name) }.filter {
            if case .upToDate = $0.state { return false } else { return true }
        }.map(\.stage), store: store, registry: registry, threads: threads, measureSpeedup: measureSpeedup)
    }

    /// Given stages, in topological order (`run --dry-run` knows which would run). With more than one
    /// thread per stage, an engine stage's wall time is its one-thread CPU time over the engine's speedup,
    /// measured here with a few training steps at each count unless `measureSpeedup` is false; without
    /// it, the one-thread time stands for the wall time, an upper bound.
    public init(pending: [ResolvedStage], store: CacheStore, registry: KindRegistry, threads: Int = 1, measureSpeedup: Bool = true) {
        let pendingNames = Set(pending.map(\.name))
        let works = pending.map { $0.kind.workUnits(params: $0.params) }
        // Measured at most once per thread count: for this estimate's threads, and for those of the
        // records made with more than one thread.
        var measured: [Int: Double?] = [:]
        func speedupAt(_ t: Int) -> Double? {
            if t <= 1 { return 1 }
            guard measureSpeedup else { return nil }
            if let known = measured[t] { return known }
            let value = registry.measureSpeedup(threads: t)
            measured[t] = value
            return value
        }
        let costs = RecordedCosts(records: store.allRecordKeys().compactMap { store.record($0) }, registry: registry,
                                  speedup: { speedupAt($0) })
        let speedup: Double? = threads <= 1 ? 1 : (works.contains { $0 != nil } ? speedupAt(threads) : nil)
        var engineRun: Double??  // the engine's seconds per work unit at one thread; .some(nil) once it could not say
        rows = zip(pending, works).map { stage, work in
            var price = costs.price(kind: stage.kind.name, params: stage.params, work: work)
            if price == nil, let work {
                if engineRun == nil { engineRun = .some(registry.measureSecondsPerWorkUnit?(1) ?? nil) }
                if let perUnit = engineRun ?? nil { price = .init(cpuSeconds: work * perUnit, basis: "engine run") }
            }
            let cpu = price?.cpuSeconds ?? Self.unknownSeconds
            return Row(stage: stage.name, kind: stage.kind.name, cpuSeconds: cpu, wallSeconds: work == nil ? cpu : cpu / (speedup ?? 1),
                       basis: price?.basis ?? "no record", deps: stage.deps.filter { pendingNames.contains($0) })
                .with(params: stage.params, peaks: costs.peaks[stage.kind.name] ?? [])
        }
        self.threads = max(1, threads)
        self.speedup = speedup
    }

    /// The longest chain of pending stages by wall time: its stages and total.
    public var criticalPath: (stages: [String], seconds: Double) {
        var best: [String: (seconds: Double, chain: [String])] = [:]
        for row in rows {  // topological order
            let before = row.deps.compactMap { best[$0] }.max { $0.seconds < $1.seconds }
            best[row.stage] = ((before?.seconds ?? 0) + row.wallSeconds, (before?.chain ?? []) + [row.stage])
        }
        let end = best.values.max { $0.seconds < $1.seconds }
        return (end?.chain ?? [], end?.seconds ?? 0)
    }

    /// Wall time with `jobs` stages at once: each free slot takes the next ready stage in pipeline order.
    public func wallSeconds(jobs: Int) -> Double {
        var finish: [String: Double] = [:], slots = [Double](repeating: 0, count: max(1, jobs))
        var waiting = rows
        while !waiting.isEmpty {
            let slot = slots.indices.min { slots[$0] < slots[$1] }!
            // Of the stages whose deps are scheduled (the earliest waiting one always is: rows are in
            // topological order), the one that can start soonest on this slot, ties in pipeline order.
            func start(_ row: Row) -> Double { max(slots[slot], row.deps.compactMap { finish[$0] }.max() ?? 0) }
            let candidates = waiting.indices.filter { waiting[$0].deps.allSatisfy { finish[$0] != nil } }
            let pick = candidates.min { (start(waiting[$0]), $0) < (start(waiting[$1]), $1) }!
            let row = waiting.remove(at: pick)
            let begin = start(row)
            finish[row.stage] = begin + row.wallSeconds
            slots[slot] = begin + row.wallSeconds
        }
        return finish.values.max() ?? 0
    }
}

extension KindRegistry {
    /// The engine's time per work unit at one thread over its time with `threads`, each the best of two
    /// short runs taken in turn, so that a load that comes and goes touches both; nil without an engine.
    func measureSpeedup(threads: Int) -> Double? {
        guard let measure = measureSecondsPerWorkUnit else { return nil }
        var one = Double.infinity, many = Double.infinity
        for _ in 0..<2 {
            guard let a = measure(1), let b = measure(threads), a > 0, b > 0 else { return nil }
            one = min(one, a)
            many = min(many, b)
        }
        return one / many
    }
}
