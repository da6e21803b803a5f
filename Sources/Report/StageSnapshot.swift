import Foundation
import Pipeline

/// One stage as the report shows it: its state in the cache and the record its results come from.
public struct StageSnapshot: Sendable {
    public enum Condition: Sendable, Equatable {
        case upToDate
        case stale(reasons: [String])
        case neverRun
        /// Its latest attempt failed after its last success (or it never succeeded).
        case failed(error: String)

        public var label: String {
            switch self {
            case .upToDate: return "up to date"
            case .stale: return "stale"
            case .neverRun: return "never run"
            case .failed: return "failed"
            }
        }

        /// The CSS class and the Graphviz fill of the state; the label always accompanies the colour.
        public var cssClass: String { label.replacingOccurrences(of: " ", with: "-") }
        public var fill: String {
            switch self {
            case .upToDate: return "#c7e9c0"
            case .stale: return "#fdd49e"
            case .neverRun: return "#e0e0e0"
            case .failed: return "#fc9272"
            }
        }

        public static let all: [Condition] = [.upToDate, .stale(reasons: []), .neverRun, .failed(error: "")]
    }

    public let stage: ResolvedStage
    public let condition: Condition
    /// The record of the current key when up to date, otherwise the stage's last successful run whose
    /// objects are all present (nil when there is none).
    public let record: ActionRecord?

    public var isCurrent: Bool { condition == .upToDate }

    /// Reads every stage's state from the cache; a failure counts only if newer than the last success.
    public static func gather(_ states: [(stage: ResolvedStage, state: StatusReport.State)], store: CacheStore) -> [StageSnapshot] {
        let latestFailure = store.lastUnsuccessfulAttempts()
        return states.map { stage, state in
            let last = store.lastKey(ofStage: stage.name).flatMap(store.record)
            switch state {
            case .upToDate(let key):
                return StageSnapshot(stage: stage, condition: .upToDate, record: store.record(key))
            case .unreadable(_, let reason):
                // As `status` says it: the record is there but cannot be read, so nothing of it is shown.
                return StageSnapshot(stage: stage, condition: .failed(error: "record unreadable: \(reason)"), record: last)
            case .neverRun, .stale:
                if let failure = latestFailure[stage.name], failure.finished > (last?.finished ?? .distantPast) {
                    return StageSnapshot(stage: stage, condition: .failed(error: failure.error ?? "unknown error"), record: last)
                }
                // `status` calls a stage waiting for its inputs stale ("never run; needs decode first"); a
                // stage that never succeeded is "never run" here, so the colours say what the cache holds.
                if case .stale(let reasons) = state, store.lastKey(ofStage: stage.name) != nil {
                    return StageSnapshot(stage: stage, condition: .stale(reasons: reasons), record: last)
                }
                return StageSnapshot(stage: stage, condition: .neverRun, record: last)
            }
        }
    }
}
