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

    public init(pipeline: ResolvedPipeline, store: CacheStore, targets: [String], sample: Int?, seed: UInt64) throws {
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
        if let sample { upToDate = AuditSelection.sample(upToDate, count: sample, seed: seed) }
        chosen = upToDate
        notUpToDate = missing
    }

    /// `count` items chosen uniformly by a seeded shuffle (the data sets' own generator, so that a seed
    /// picks the same stages on every machine and toolchain), kept in their original order.
    static func sample<T>(_ items: [T], count: Int, seed: UInt64) -> [T] {
        guard count >= 0, count < items.count else { return items }
        var generator = SeededRNG(seed: seed)
        var order = Array(items.indices)
        generator.shuffle(&order)
        return order.prefix(count).sorted().map { items[$0] }
    }
}
