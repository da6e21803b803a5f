import Foundation
import Pipeline

/// What a `max-stable-lr` search says about the largest rate that trains: an interval, not a number
/// (issue 22, item 6). The search brackets the answer between the largest rate that trained and the
/// smallest that failed; at the grid's ends one side is open. When no rate of the grid trained, the
/// reason decides: a net that diverges even at the grid's bottom has its answer below it, but one that
/// is stable there and only learns too slowly within the budget says nothing about its stability.
struct StableRateBracket: Equatable {
    /// The answer is at least this (0 when no rate trained).
    var lower: Double
    /// The answer is below this (∞ when the grid's top trained); nil when unknown.
    var upper: Double?
    /// True when no rate trained and the bottom rate did not diverge: slow learning, not instability.
    var undetermined: Bool

    init(_ r: MaxStableLRStage.Result) {
        if let stable = r.largestStableLr {
            lower = stable
            upper = r.smallestFailingLr ?? .infinity
            undetermined = false
            return
        }
        let bottom = r.trials.map(\.lr).min() ?? 0
        let divergedAtBottom = r.trials.contains { $0.lr == bottom && $0.diverged }
        lower = 0
        upper = divergedAtBottom ? bottom : nil
        undetermined = !divergedAtBottom
    }

    /// Three-valued "self's answer is above other's": holds when self trains at a rate where other
    /// fails, fails when other trains at a rate where self fails or both brackets are the same (a tie at
    /// the grid's resolution is not "above"), and is inconclusive when the brackets overlap otherwise or a
    /// bound is unknown.
    func above(_ other: StableRateBracket) -> Claim.Verdict {
        if undetermined || other.undetermined { return .inconclusive }
        if let up = other.upper, lower > 0, lower >= up { return .holds }
        if let up = upper, other.lower > 0, other.lower >= up { return .fails }
        if self == other { return .fails }
        return .inconclusive
    }

    /// "0.0316–0.1", "≥ 1" (the grid's top trained), "< 0.01" (diverges at the grid's bottom), or
    /// "undetermined" with the reason.
    var text: String {
        func r(_ x: Double) -> String { String(format: "%.3g", x) }
        if undetermined { return "undetermined (no rate of the grid trains, and the lowest does not diverge: it learns too slowly)" }
        guard lower > 0 else { return "< " + (upper.map(r) ?? "?") }
        guard let upper, upper.isFinite else { return "≥ " + r(lower) }
        return r(lower) + "–" + r(upper)
    }
}
