import Foundation

/// `bnrepro estimate`: what the stages that are not cached will cost, before they run.
///
/// A stage's CPU time is its kind's work (`workUnits`) times seconds per unit, calibrated per kind from
/// the cache's own action records (the median over that kind's records of CPU seconds per unit), else
/// from every engine kind's records, else from a short run of the engine. A kind that runs no engine takes the median CPU time of its own records, else `unknownSeconds`. Stages run
/// one thread each (`-j` = cores), so a stage's wall time is its CPU time; the wall time of the whole
/// run is a list-scheduling simulation on `jobs` slots, and the critical path bounds it on an unlimited
/// cluster.
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
        public let cpuSeconds: Double
        /// Where the number came from: "records (n)", "all records", "engine run", "no record".
        public let basis: String
        public let deps: [String]
        /// The largest `peakMemoryBytes` among the records of this kind with the same params if there
        /// are any, else among all of this kind's; nil when none has one.
        public let peakMemoryBytes: Int64?
        /// How many records the maximum is over.
        public let memoryRecords: Int
        /// Whether those records ran with this stage's params (else: other params of the same kind).
        public let memorySameParams: Bool

        init(stage: String, kind: String, cpuSeconds: Double, basis: String, deps: [String],
             peakMemoryBytes: Int64? = nil, memoryRecords: Int = 0, memorySameParams: Bool = false) {
            self.stage = stage
            self.kind = kind
            self.cpuSeconds = cpuSeconds
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
            return Row(stage: stage, kind: kind, cpuSeconds: cpuSeconds, basis: basis, deps: deps,
                       peakMemoryBytes: used.map(\.bytes).max(), memoryRecords: used.count, memorySameParams: !same.isEmpty)
        }
    }

    public static let unknownSeconds = 5.0

    public let rows: [Row]
    public var totalCPU: Double { rows.reduce(0) { $0 + $1.cpuSeconds } }
    /// The pending stage with the largest known peak memory: what one job's memory limit must cover.
    public var largestPeakMemory: Row? {
        rows.filter { $0.peakMemoryBytes != nil }.max { ($0.peakMemoryBytes ?? 0) < ($1.peakMemoryBytes ?? 0) }
    }

    init(rows: [Row]) { self.rows = rows }

    /// The stages of `targets` (and what they need) that are not up to date.
    public init(pipeline: ResolvedPipeline, store: CacheStore, registry: KindRegistry, targets: [String]) throws {
        let wanted = Set(try pipeline.closure(of: targets).map(\.name))
        let states = StatusReport(pipeline: pipeline, store: store).states()
        self.init(pending: states.filter { wanted.contains($0.stage.name) }.filter {
            if case .upToDate = $0.state { return false } else { return true }
        }.map(\.stage), store: store, registry: registry)
    }

    /// Given stages, in topological order (`run --dry-run` knows which would run).
    public init(pending: [ResolvedStage], store: CacheStore, registry: KindRegistry) {
        let records = store.allRecordKeys().compactMap { store.record($0) }
        var perKind: [String: [Double]] = [:], network: [Double] = [], plain: [String: [Double]] = [:]
        var peaks: [String: [(params: String, bytes: Int64)]] = [:]
        for record in records {
            guard let kind = registry.kind(named: record.kind) else { continue }
            if let peak = record.peakMemoryBytes {
                peaks[record.kind, default: []].append((JSONValue.object(record.params).canonicalText, peak))
            }
            if let work = kind.workUnits(params: record.params), work > 0 {
                perKind[record.kind, default: []].append(record.cpuSeconds / work)
                network.append(record.cpuSeconds / work)
            } else {
                plain[record.kind, default: []].append(record.cpuSeconds)
            }
        }
        var measured: Double?
        let pendingNames = Set(pending.map(\.name))
        let timed = pending.map { stage -> Row in
            let deps = stage.deps.filter { pendingNames.contains($0) }
            if let work = stage.kind.workUnits(params: stage.params) {
                if let own = perKind[stage.kind.name] {
                    return Row(stage: stage.name, kind: stage.kind.name, cpuSeconds: work * Self.median(own), basis: "records (\(own.count))", deps: deps)
                }
                if !network.isEmpty {
                    return Row(stage: stage.name, kind: stage.kind.name, cpuSeconds: work * Self.median(network), basis: "all records", deps: deps)
                }
                if measured == nil { measured = registry.measureSecondsPerWorkUnit?() ?? nil }
                if let measured {
                    return Row(stage: stage.name, kind: stage.kind.name, cpuSeconds: work * measured, basis: "engine run", deps: deps)
                }
            }
            if let own = plain[stage.kind.name] {
                return Row(stage: stage.name, kind: stage.kind.name, cpuSeconds: Self.median(own), basis: "records (\(own.count))", deps: deps)
            }
            return Row(stage: stage.name, kind: stage.kind.name, cpuSeconds: Self.unknownSeconds, basis: "no record", deps: deps)
        }
        rows = zip(pending, timed).map { stage, row in row.with(params: stage.params, peaks: peaks[stage.kind.name] ?? []) }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The longest chain of pending stages by CPU time: its stages and total.
    public var criticalPath: (stages: [String], seconds: Double) {
        var best: [String: (seconds: Double, chain: [String])] = [:]
        for row in rows {  // topological order
            let before = row.deps.compactMap { best[$0] }.max { $0.seconds < $1.seconds }
            best[row.stage] = ((before?.seconds ?? 0) + row.cpuSeconds, (before?.chain ?? []) + [row.stage])
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
            finish[row.stage] = begin + row.cpuSeconds
            slots[slot] = begin + row.cpuSeconds
        }
        return finish.values.max() ?? 0
    }
}
