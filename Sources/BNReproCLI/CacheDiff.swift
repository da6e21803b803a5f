import ArrayFormats
import Audit
import Foundation
import Pipeline

/// `bnrepro diff`: what differs between two caches of one pipeline, stage by stage and claim by claim.
/// "Here" is this cache (after a change), "there" the other one (before). Each side's stage is the one
/// `StatusReport` finds up to date against that cache: the same key on both sides when the inputs are the
/// same, each its own when upstream outputs differ. Records and objects are read through the store (never
/// through a symlink); nothing is computed and nothing is written.
struct CacheDiff {
    enum StageResult: Equatable {
        case same
        case differs([OutputDifference])
        case onlyHere
        case onlyThere
        case inNeither
    }

    /// One output whose digest differs, and what differs inside it when its format is known.
    struct OutputDifference: Equatable {
        let name: String
        let details: [String]
    }

    struct ClaimChange {
        let id: String
        let before: Claim?
        let after: Claim?
    }

    let stages: [(stage: String, result: StageResult)]
    let claimChanges: [ClaimChange]
    let unchangedClaims: Int

    init(pipeline: ResolvedPipeline, here: CacheStore, there: CacheStore) throws {
        try self.init(here: (pipeline, here), there: (pipeline, there))
    }

    /// Two pipelines (the current one and the one at another commit) or two caches, or both: each side's
    /// stages as that pipeline resolves them against that cache, matched by stage name.
    init(here hereSide: (pipeline: ResolvedPipeline, store: CacheStore), there thereSide: (pipeline: ResolvedPipeline, store: CacheStore)) throws {
        let hereStates = StatusReport(pipeline: hereSide.pipeline, store: hereSide.store).states()
        let thereStates = StatusReport(pipeline: thereSide.pipeline, store: thereSide.store).states()
        let here = hereSide.store, there = thereSide.store
        let thereByName = Dictionary(thereStates.map { ($0.stage.name, $0.state) }, uniquingKeysWith: { a, _ in a })
        let hereNames = Set(hereStates.map(\.stage.name))
        // Stages the other pipeline has and this one does not (a revision before a stage was renamed).
        let removed: [(stage: String, result: StageResult)] = thereStates.filter { !hereNames.contains($0.stage.name) }.map {
            ($0.stage.name, CacheDiff.upToDateRecord($0.state, there) == nil ? .inNeither : .onlyThere)
        }
        stages = removed + hereStates.map { stage, state in
            let a = CacheDiff.upToDateRecord(state, here), b = thereByName[stage.name].flatMap { CacheDiff.upToDateRecord($0, there) }
            switch (a, b) {
            case (let a?, let b?):
                let differences = CacheDiff.outputDifferences(here: a, hereStore: here, there: b, thereStore: there)
                return (stage.name, differences.isEmpty ? .same : .differs(differences))
            case (_?, nil): return (stage.name, .onlyHere)
            case (nil, _?): return (stage.name, .onlyThere)
            case (nil, nil): return (stage.name, .inNeither)
            }
        }
        let before = try CachedClaims(states: thereStates, store: there).table.claims
        let after = try CachedClaims(states: hereStates, store: here).table.claims
        let beforeByID = Dictionary(before.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let afterIDs = Set(after.map(\.id))
        var changes: [ClaimChange] = [], unchanged = 0
        for claim in after {
            let old = beforeByID[claim.id]
            if let old, CacheDiff.sameResult(old, claim) { unchanged += 1 } else { changes.append(ClaimChange(id: claim.id, before: old, after: claim)) }
        }
        for claim in before where !afterIDs.contains(claim.id) { changes.append(ClaimChange(id: claim.id, before: claim, after: nil)) }
        claimChanges = changes
        unchangedClaims = unchanged
    }

    /// What the diff prints of a claim; a claim whose paper value, our value and verdict are equal on both
    /// sides did not move.
    static func sameResult(_ a: Claim, _ b: Claim) -> Bool { a.paper == b.paper && a.ours == b.ours && a.verdict == b.verdict }

    static func upToDateRecord(_ state: StatusReport.State, _ store: CacheStore) -> ActionRecord? {
        guard case .upToDate(let key) = state else { return nil }
        return store.record(key)
    }

    static func outputDifferences(here: ActionRecord, hereStore: CacheStore, there: ActionRecord, thereStore: CacheStore) -> [OutputDifference] {
        Set(here.outputs.keys).union(there.outputs.keys).sorted().compactMap { name in
            switch (here.outputs[name], there.outputs[name]) {
            case (_?, nil): return OutputDifference(name: name, details: ["only here"])
            case (nil, _?): return OutputDifference(name: name, details: ["only there"])
            case (let a?, let b?) where a.digest != b.digest:
                do {
                    return OutputDifference(name: name, details: OutputComparison.details(name: name, cached: try thereStore.readObject(b.digest),
                                                                                          recomputed: try hereStore.readObject(a.digest)))
                } catch {
                    return OutputDifference(name: name, details: ["cannot compare: \(error)"])
                }
            default: return nil
            }
        }
    }

    // MARK: text

    var text: String {
        var lines: [String] = []
        var counts: [String: Int] = [:]
        for (stage, result) in stages {
            let label: String
            switch result {
            case .same: label = "same"
            case .differs: label = "differs"
            case .onlyHere: label = "only here"
            case .onlyThere: label = "only there"
            case .inNeither: label = "in neither"
            }
            counts[label, default: 0] += 1
            lines.append("  " + label.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + stage)
            if case .differs(let outputs) = result {
                for output in outputs {
                    lines.append("                - \(output.name)" + (output.details.count == 1 ? ": \(output.details[0])" : ""))
                    if output.details.count > 1 { lines += output.details.map { "                    \($0)" } }
                }
            }
        }
        let order = ["same", "differs", "only here", "only there", "in neither"]
        lines.append("\(stages.count) stages: " + order.compactMap { label in counts[label].map { "\($0) \(label)" } }.joined(separator: ", "))
        lines.append("claims: \(claimChanges.count) changed, \(unchangedClaims) unchanged")
        for change in claimChanges {
            let any = change.after ?? change.before
            lines.append("  \(change.id)" + (any.map { " (\($0.figure)): \($0.statement)" } ?? ""))
            lines.append("      before: " + CacheDiff.claimText(change.before))
            lines.append("      after:  " + CacheDiff.claimText(change.after))
            let holdsBefore = change.before?.verdictText ?? "absent", holdsAfter = change.after?.verdictText ?? "absent"
            lines.append("      holds:  " + (holdsBefore == holdsAfter ? "unchanged (\(holdsAfter))" : "changed, \(holdsBefore) → \(holdsAfter)"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func claimText(_ claim: Claim?) -> String {
        guard let claim else { return "absent" }
        return "paper \(claim.paper), ours \(claim.ours), holds: \(claim.verdictText)"
    }
}
