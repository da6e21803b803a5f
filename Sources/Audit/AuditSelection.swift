import Datasets
import Foundation
import Pipeline

/// Which cached results an audit computes again. Named targets (a stage, a matrix group, a figure)
/// must be up to date: auditing a stage that has no current result is an error that says to run it.
/// Without targets, every up-to-date stage of the profile; the others are listed, not audited.
/// `sample` then keeps that many of them, chosen by `seed`, in pipeline order.
public struct AuditSelection: Sendable {
    public let chosen: [(stage: ResolvedStage, key: String)]
    public let notUpToDate: [String]
    /// Stages left out because their predicted CPU time did not fit what was left of `maxCPU`.
    public let overBudget: [(stage: String, cpuSeconds: Double)]

    /// `maxCPU` caps the predicted CPU seconds of the chosen stages together; `cost` predicts them (from
    /// `estimate`'s model), so that a sample at the paper profile cannot pick a CPU-week of training.
    public init(pipeline: ResolvedPipeline, store: CacheStore, targets: [String], sample: Int?, seed: UInt64,
                maxCPU: Double? = nil, cost: ([ResolvedStage]) -> [String: Double] = { _ in [:] }) throws {
        let states = StatusReport(pipeline: pipeline, store: store).states()
        var named = Set<String>()
        for target in targets { named.formUnion(try pipeline.select(target).map(\.name)) }
        var upToDate: [(stage: ResolvedStage, key: String)] = [], missing: [String] = []
        for (stage, state) in states where targets.isEmpty || named.contains(stage.name) {
            if case .upToDate(let key) = state { upToDate.append((stage, key)); continue }
            if !targets.isEmpty { throw PipelineError.notCached(stage: stage.name) }
            missing.append(stage.name)
        }
        guard !upToDate.isEmpty else {
            throw PipelineError.nothingToAudit(profile: pipeline.profile)
        }
        notUpToDate = missing
        guard let maxCPU else {
            chosen = sample.map { AuditSelection.sample(upToDate, count: $0, seed: seed) } ?? upToDate
            overBudget = []
            return
        }
        // In the sample's random order (or in order, without --sample), each stage that still fits.
        let seconds = cost(upToDate.map(\.stage))
        let order = sample == nil ? Array(upToDate.indices) : AuditSelection.shuffledIndices(upToDate.count, seed: seed)
        var taken: [Int] = [], left: [(String, Double)] = [], spent = 0.0
        for i in order where taken.count < (sample ?? upToDate.count) {
            let need = seconds[upToDate[i].stage.name] ?? 0
            if spent + need <= maxCPU { taken.append(i); spent += need } else { left.append((upToDate[i].stage.name, need)) }
        }
        chosen = taken.sorted().map { upToDate[$0] }
        overBudget = left
    }

    /// `count` items chosen uniformly by a seeded shuffle (the data sets' own generator, so that a seed
    /// picks the same stages on every machine and toolchain), kept in their original order.
    static func sample<T>(_ items: [T], count: Int, seed: UInt64) -> [T] {
        guard count >= 0, count < items.count else { return items }
        return shuffledIndices(items.count, seed: seed).prefix(count).sorted().map { items[$0] }
    }

    static func shuffledIndices(_ count: Int, seed: UInt64) -> [Int] {
        var generator = SeededRNG(seed: seed)
        var order = Array(0..<count)
        generator.shuffle(&order)
        return order
    }
}
