import Foundation

/// What the cache's records say each kind costs, for `estimate`.
///
/// Prices are CPU seconds of a stage run with one OpenMP thread, the way `-j` = cores runs every stage.
/// A one-thread record's wall time is not used: on a shared machine it counts whatever else ran beside
/// the stage (records here show wall up to twice the CPU), while its CPU time is the stage's own.
/// Records made with more threads price a kind only when it has none with one. Their CPU time also counts
/// the threads' spinning (Fig. 1 at two threads per stage: 5 h 29 min of CPU for 3 h 55 min of one-thread
/// work), so an engine stage's record counts as its wall time times the engine's speedup at its thread
/// count, measured now (`speedup`), or its CPU time where that is less or the speedup is unknown.
struct RecordedCosts {
    struct Sample {
        let params: String
        var cpuSeconds: Double
        let work: Double?
        let wallSeconds: Double
        let threads: Int
    }

    /// By kind: the samples at one thread (or with no thread count recorded), else the kind's others.
    private var oneThread: [String: [Sample]] = [:]
    private var otherThreads: [String: [Sample]] = [:]
    /// Every engine kind's seconds per work unit, at one thread: the price of an engine kind without records.
    private var network: [Double] = []
    private(set) var peaks: [String: [(params: String, bytes: Int64)]] = [:]
    /// Kinds whose records at more threads were priced by wall × speedup (at least one of them).
    private var otherThreadsByWall: Set<String> = []

    /// `speedup(threads)`: how much faster the engine runs with that many threads than with one, or nil
    /// when not measured; asked only for the thread counts of the engine records that price a kind
    /// without one-thread records.
    init(records: [ActionRecord], registry: KindRegistry, speedup: (Int) -> Double? = { _ in nil }) {
        for record in records {
            guard let kind = registry.kind(named: record.kind) else { continue }
            let params = JSONValue.object(record.params).canonicalText
            if let peak = record.peakMemoryBytes { peaks[record.kind, default: []].append((params, peak)) }
            let work = kind.workUnits(params: record.params).flatMap { $0 > 0 ? $0 : nil }
            let threads = record.threads ?? 1
            let sample = Sample(params: params, cpuSeconds: record.cpuSeconds, work: work, wallSeconds: record.wallSeconds, threads: threads)
            if threads == 1 {
                oneThread[record.kind, default: []].append(sample)
                if let work { network.append(record.cpuSeconds / work) }
            } else {
                otherThreads[record.kind, default: []].append(sample)
            }
        }
        for (kind, samples) in otherThreads where oneThread[kind] == nil {
            for (i, sample) in samples.enumerated() where sample.work != nil {
                guard let factor = speedup(sample.threads), sample.wallSeconds * factor < sample.cpuSeconds else { continue }
                otherThreads[kind]?[i].cpuSeconds = sample.wallSeconds * factor
                otherThreadsByWall.insert(kind)
            }
        }
    }

    struct Price: Equatable {
        let cpuSeconds: Double
        let basis: String
    }

    /// The price of one stage from the records, or nil when they say nothing about it. In order: the
    /// records with the stage's own params (as after a version bump, a changed input or `--force`),
    /// which also know what no work count does, such as a run stopped by divergence; the kind's seconds
    /// per work unit; every engine kind's; the median of the kind's records.
    func price(kind: String, params: JSONObject, work: Double?) -> Price? {
        let own = JSONValue.object(params).canonicalText
        let (samples, note) = oneThread[kind].map { ($0, "") }
            ?? (otherThreads[kind] ?? [], otherThreadsByWall.contains(kind) ? ", more threads: wall × speedup" : ", more threads")
        let same = samples.filter { $0.params == own }
        if !same.isEmpty {
            return Price(cpuSeconds: Self.median(same.map(\.cpuSeconds)), basis: "same params (\(same.count)\(note))")
        }
        if let work {
            let rates = samples.compactMap { s in s.work.map { s.cpuSeconds / $0 } }
            if !rates.isEmpty { return Price(cpuSeconds: work * Self.median(rates), basis: "records (\(rates.count)\(note))") }
            if !network.isEmpty { return Price(cpuSeconds: work * Self.median(network), basis: "all records") }
            return nil
        }
        guard !samples.isEmpty else { return nil }
        return Price(cpuSeconds: Self.median(samples.map(\.cpuSeconds)), basis: "records (\(samples.count)\(note))")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
