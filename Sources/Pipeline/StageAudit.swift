import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `bnrepro audit` found for one cached stage: it computed the stage again from the same input
/// objects, in a scratch cache, and compared every output with the cached one. Kept per key under
/// `<cache>/audits/<key>.json` (the last audit of that result) for `report`.
public struct StageAudit: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable, CaseIterable {
        /// Every output came out byte for byte the same.
        case identical
        /// An output differs at the thread count the original ran with (or with that count unknown): a failure.
        case differs
        /// Outputs differ, and the audit ran with another OpenMP thread count than the original: parallel
        /// reductions sum in another order, so this is reported, not counted as a failure.
        case differsWithThreads = "differs-threads"
        /// Outputs differ, and the original ran on another CPU (a pulled result): other instruction sets
        /// take other float paths. Reported, not counted as a failure.
        case differsWithCPU = "differs-cpu"
        /// Outputs differ, the original ran on another CPU, and every difference is numeric and within the
        /// kind's tolerance (`StageKind.crossCPUTolerance`: analyses at initialisation, which no training
        /// step amplifies).
        case withinTolerance = "within-tolerance"
        /// The stage could not be computed again (`error` says why).
        case couldNotRun = "could-not-run"

        /// How a count of them reads: "3 identical", "1 differ only with the thread count".
        var countLabel: String {
            switch self {
            case .identical: return "identical"
            case .differs: return "differ"
            case .differsWithThreads: return "differ only with the thread count"
            case .differsWithCPU: return "differ only with the CPU"
            case .withinTolerance: return "within tolerance on another CPU"
            case .couldNotRun: return "could not run"
            }
        }
    }

    /// "8 identical, 1 differ": the verdicts that occur, counted, in the order of `Verdict`.
    public static func tally(_ audits: [StageAudit]) -> String {
        Verdict.allCases.compactMap { verdict in
            let n = audits.filter { $0.verdict == verdict }.count
            return n > 0 ? "\(n) \(verdict.countLabel)" : nil
        }.joined(separator: ", ")
    }

    public struct Output: Codable, Sendable, Equatable {
        public enum Result: String, Codable, Sendable {
            case identical, differs
            /// In the cached result only / in the recomputed result only.
            case onlyCached = "only-cached", onlyRecomputed = "only-recomputed"
        }
        public let name: String
        public let result: Result
        /// What differs inside it, when its format is known (largest differences, fields, pixels).
        public let details: [String]
        /// The largest relative difference of its numbers, when every difference is numeric (arrays, JSON
        /// numbers); nil when not, or when identical.
        public let largestRelative: Double?

        public init(name: String, result: Result, details: [String] = [], largestRelative: Double? = nil) {
            self.name = name
            self.result = result
            self.details = details
            self.largestRelative = largestRelative
        }
    }

    public static let currentSchemaVersion = 1

    public let schemaVersion: Int
    public let stage: String
    public let kind: String
    /// The key of the audited result.
    public let key: String
    public let audited: Date
    public let host: String
    /// The project's commit the audit ran at (the code that recomputed the stage).
    public let commit: String?
    /// OpenMP threads of the original run (nil: not recorded) and of the recomputation.
    public let originalThreads: Int?
    public let auditThreads: Int
    /// The CPU models of the original run and of the recomputation (nil: not recorded).
    public let originalCPU: String?
    public let auditCPU: String?
    public let verdict: Verdict
    public let error: String?
    public let outputs: [Output]
    /// How long the recomputation took.
    public let wallSeconds: Double

    public init(stage: String, kind: String, key: String, audited: Date, host: String = ProcessInfo.processInfo.hostName,
                commit: String?, originalThreads: Int?, auditThreads: Int, originalCPU: String? = nil, auditCPU: String? = nil,
                verdict: Verdict, error: String? = nil, outputs: [Output], wallSeconds: Double) {
        schemaVersion = StageAudit.currentSchemaVersion
        self.stage = stage
        self.kind = kind
        self.key = key
        self.audited = audited
        self.host = host
        self.commit = commit
        self.originalThreads = originalThreads
        self.auditThreads = auditThreads
        self.originalCPU = originalCPU
        self.auditCPU = auditCPU
        self.verdict = verdict
        self.error = error
        self.outputs = outputs
        self.wallSeconds = wallSeconds
    }

    /// The verdict for outputs compared at these thread counts: a difference is a failure unless the
    /// audit knowingly ran with another thread count than the original.
    /// On another CPU than the original's, differences are the CPU's doing unless the kind promises a
    /// tolerance, which every output must then keep (`tolerance`: nil for kinds whose outputs are chaotic).
    public static func verdict(outputs: [Output], originalThreads: Int?, auditThreads: Int,
                               originalCPU: String? = nil, auditCPU: String? = nil, tolerance: Double? = nil) -> Verdict {
        if outputs.allSatisfy({ $0.result == .identical }) { return .identical }
        if let original = originalCPU, let audit = auditCPU, original != audit {
            let within = tolerance.map { limit in
                outputs.allSatisfy { $0.result == .identical || ($0.result == .differs && ($0.largestRelative ?? .infinity) <= limit) }
            } ?? false
            return within ? .withinTolerance : .differsWithCPU
        }
        if let original = originalThreads, original != auditThreads { return .differsWithThreads }
        return .differs
    }

    /// A verdict that makes `audit` exit 1.
    public var isFailure: Bool { verdict == .differs || verdict == .couldNotRun }

    /// The verdict as the table and the report print it.
    public var verdictText: String {
        switch verdict {
        case .identical: return "identical"
        case .differs: return originalThreads == nil ? "differs (original thread count not recorded)" : "differs"
        case .differsWithThreads: return "differs (threads \(originalThreads.map(String.init) ?? "?") vs \(auditThreads))"
        case .differsWithCPU: return "differs (CPU \(originalCPU ?? "?") vs \(auditCPU ?? "?"))"
        case .withinTolerance:
            let largest = outputs.compactMap(\.largestRelative).max() ?? 0
            return String(format: "within tolerance (CPU %@ vs %@; largest relative difference %.2g)", originalCPU ?? "?", auditCPU ?? "?", largest)
        case .couldNotRun: return "could not run"
        }
    }
}

/// One `bnrepro audit` command: every stage it audited, written to `<cache>/audits/audit.json`.
public struct AuditSummary: Codable, Sendable {
    public let schemaVersion: Int
    public let started: Date
    public let finished: Date
    public let profile: String
    public let commit: String?
    /// The targets as given (empty: every stage of the profile).
    public let targets: [String]
    /// `--sample N` and the seed that chose the stages, when sampling.
    public let sample: Int?
    public let seed: UInt64?
    public let stages: [StageAudit]
    /// Stages among the targets that were not audited because they are not up to date.
    public let notUpToDate: [String]

    public init(started: Date, finished: Date, profile: String, commit: String?, targets: [String], sample: Int?, seed: UInt64?,
                stages: [StageAudit], notUpToDate: [String]) {
        schemaVersion = StageAudit.currentSchemaVersion
        self.started = started
        self.finished = finished
        self.profile = profile
        self.commit = commit
        self.targets = targets
        self.sample = sample
        self.seed = seed
        self.stages = stages
        self.notUpToDate = notUpToDate
    }
}

extension CacheStore {
    var auditsDirectory: URL { root.appendingPathComponent("audits") }

    /// Where the last `bnrepro audit` command's summary is.
    public var auditSummaryURL: URL { auditsDirectory.appendingPathComponent("audit.json") }

    /// Keeps the audit as the last one of its key (atomically: a reader sees the old one or the new one).
    public func writeAudit(_ audit: StageAudit) throws {
        guard Digest.isValid(audit.key) else { throw PipelineError.unreadable(file: audit.key, reason: "not a stage key") }
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(audit), to: auditsDirectory.appendingPathComponent("\(audit.key).json"))
    }

    public func writeAuditSummary(_ summary: AuditSummary) throws {
        try FileIO.atomicWrite(try RecordCoding.encoder().encode(summary), to: auditSummaryURL)
    }

    /// The last audit of the result under `key`, or nil when it was never audited or its file cannot be
    /// read (an audit is a note about a result, never a reason for a command to fail).
    public func audit(ofKey key: String) -> StageAudit? {
        guard Digest.isValid(key) else { return nil }
        let url = auditsDirectory.appendingPathComponent("\(key).json")
        guard FileIO.regularFileSize(url) != nil, let data = try? Data(contentsOf: url),
              let audit = try? RecordCoding.decoder().decode(StageAudit.self, from: data),
              audit.key == key, audit.schemaVersion <= StageAudit.currentSchemaVersion else { return nil }
        return audit
    }

    public func allAuditKeys() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: auditsDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && Digest.isValid(String($0.dropLast(5))) }.map { String($0.dropLast(5)) }
    }

    public func removeAudit(_ key: String) { unlink(auditsDirectory.appendingPathComponent("\(key).json").path) }
}
