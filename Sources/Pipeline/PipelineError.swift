import Foundation

/// Everything that can go wrong in the pipeline, each with a message that names the stage, file or field.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case invalidJSON(JSONSyntaxError)
    case invalidField(file: String, location: String, problem: String)
    case invalidName(file: String, name: String)
    case duplicateStage(file: String, name: String)
    case unknownKind(stage: String, kind: String, suggestion: String?)
    case unknownDependency(stage: String, dependency: String, suggestion: String?)
    case cycle([String])
    case unknownProfile(name: String, known: [String])
    case badOverride(path: String, problem: String)
    case unknownStage(name: String, suggestion: String?)
    case missingInput(stage: String, dependency: String, file: String)
    case badParameter(stage: String, parameter: String, problem: String)
    case corruptObject(digest: String, path: String)
    case lockBusy(holder: String)
    case stageFailed(stage: String, reason: String)
    case kindVersionMismatch(stage: String, kind: String, expected: Int, found: Int)
    case notCached(stage: String)
    case nothingToAudit(profile: String)
    case unsafePublish(stage: String, problem: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "cannot read \(file): \(reason)"
        case .invalidJSON(let e): return e.description
        case .invalidField(let file, let location, let problem): return "\(file): \(location): \(problem)"
        case .invalidName(let file, let name):
            return "\(file): stage name '\(name)' may contain only letters, digits and ._-@=,+"
        case .duplicateStage(let file, let name): return "\(file): stage '\(name)' is defined more than once"
        case .unknownKind(let stage, let kind, let suggestion):
            return "stage '\(stage)', field 'kind': unknown kind '\(kind)'" + didYouMean(suggestion)
        case .unknownDependency(let stage, let dep, let suggestion):
            return "stage '\(stage)' depends on '\(dep)', which is not defined" + didYouMean(suggestion)
        case .cycle(let names): return "the stages form a cycle: " + (names + [names[0]]).joined(separator: " → ")
        case .unknownProfile(let name, let known):
            return "unknown profile '\(name)'; the pipeline defines: " + known.joined(separator: ", ")
        case .badOverride(let path, let problem): return "cannot apply '\(path)': \(problem)"
        case .unknownStage(let name, let suggestion): return "no stage named '\(name)'" + didYouMean(suggestion)
        case .missingInput(let stage, let dep, let file):
            return "stage '\(stage)' needs output '\(file)' of '\(dep)', which does not produce it"
        case .badParameter(let stage, let parameter, let problem):
            return "stage '\(stage)', field 'params.\(parameter)': \(problem)"
        case .corruptObject(let digest, let path):
            return "cache object \(digest) (\(path)) does not match its digest; it was quarantined and will be recomputed"
        case .lockBusy(let holder): return "the cache is in use by \(holder); rerun without --no-wait to wait for it"
        case .stageFailed(let stage, let reason): return "stage '\(stage)' failed: \(reason)"
        case .kindVersionMismatch(let stage, let kind, let expected, let found):
            return "stage '\(stage)': kind '\(kind)' is version \(found) in this binary, but the job asks for version \(expected)"
        case .notCached(let stage): return "stage '\(stage)' has no cached result for the current pipeline; run it first"
        case .nothingToAudit(let profile):
            return "nothing to audit: no stage of profile '\(profile)' is up to date; `bnrepro run` computes them"
        case .unsafePublish(let stage, let problem): return "stage '\(stage)', field 'publish': not published: \(problem)"
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }

    private func didYouMean(_ s: String?) -> String { s.map { "; did you mean '\($0)'?" } ?? "" }
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
public func closestMatch(_ word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
