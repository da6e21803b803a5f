import Foundation

/// One claim of the paper, checked against our numbers: what the paper says, where we have it from,
/// what we measured and whether the comparison holds. Stages write their claims to `claims.json`;
/// `bnrepro claims` and the `claims` stage gather them. Kept free of any experiment so that the CLI can
/// read them without knowing the kinds.
public struct Claim: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case holds
        case fails
        /// A claim the budget cannot test (a plateau after 2,400 epochs at the quick profile): reported
        /// with its value, tested by the paper profile, never counted as holding.
        case deferred
        /// The margin lies within the noise (seed spread and binomial error): neither holds nor fails.
        /// `claims --strict` treats it as a failure to decide.
        case inconclusive
    }

    /// Stable id, e.g. `fig2.std-ratio`.
    public var id: String
    /// "Fig. 2", "Table 1".
    public var figure: String
    public var statement: String
    /// The paper's value as it states or shows it.
    public var paper: String
    /// Where the paper's value comes from (paper-notes section and tag).
    public var source: String
    /// Our value, formatted for the table.
    public var ours: String
    /// The comparison that decides the verdict, in words ("ours ≥ 30").
    public var test: String
    public var verdict: Verdict
    public var note: String?
    /// True for a claim whose numbers the set-up was chosen to fit (the calibration's scores): it can
    /// confirm the fit, not test the paper. nil or false: out of sample.
    public var inSample: Bool?

    public init(id: String, figure: String, statement: String, paper: String, source: String, ours: String,
                test: String, verdict: Verdict, note: String? = nil) {
        self.id = id
        self.figure = figure
        self.statement = statement
        self.paper = paper
        self.source = source
        self.ours = ours
        self.test = test
        self.verdict = verdict
        self.note = note
    }

    /// `holds` when `condition`, else `fails`; a non-finite measurement fails.
    public static func verdict(_ condition: Bool) -> Verdict { condition ? .holds : .fails }
}

/// What a stage writes to `claims.json`.
public struct ClaimsFile: Codable, Sendable, Equatable {
    public static let fileName = "claims.json"
    public var stage: String
    public var claims: [Claim]

    public init(stage: String, claims: [Claim]) {
        self.stage = stage
        self.claims = claims
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    public static func read(from url: URL) throws -> ClaimsFile { try decode(Data(contentsOf: url)) }

    public static func decode(_ data: Data) throws -> ClaimsFile { try JSONDecoder().decode(ClaimsFile.self, from: data) }
}

/// The claims of several stages as one table: deduplicated by id (a figure repeats its analysis'
/// claims), in figure order.
public struct ClaimsTable: Sendable {
    public private(set) var claims: [Claim] = []

    public init(_ files: [ClaimsFile]) {
        var seen = Set<String>()
        for file in files {
            for claim in file.claims where seen.insert(claim.id).inserted { claims.append(claim) }
        }
        claims.sort { ($0.figureOrder, $0.id) < ($1.figureOrder, $1.id) }
    }

    public var failing: [Claim] { claims.filter { $0.verdict == .fails } }
    /// Claims `--strict` refuses: failing or undecided within their noise.
    public var undecidedOrFailing: [Claim] { claims.filter { $0.verdict == .fails || $0.verdict == .inconclusive } }
    public func count(_ verdict: Claim.Verdict) -> Int { claims.filter { $0.verdict == verdict }.count }

    public var summary: String {
        let outOfSample = claims.filter { $0.inSample != true }
        let heldOut = outOfSample.filter { $0.verdict == .holds }.count
        return "\(claims.count) claims: \(count(.holds)) hold, \(count(.fails)) fail, \(count(.inconclusive)) inconclusive, "
            + "\(count(.deferred)) deferred to a longer budget; out of sample (not fit by the calibration): \(heldOut) of \(outOfSample.count) hold"
    }

    /// A GitHub-flavoured Markdown table (README's "paper vs ours" and tables/claims.md).
    public var markdown: String {
        var lines = ["| figure | claim | paper | ours | test | holds |", "|---|---|---|---|---|---|"]
        for c in claims {
            let cells = [c.figure, c.statement, "\(c.paper) (\(c.source))", c.ours + (c.note.map { "; \($0)" } ?? ""), c.test,
                         c.verdictText + (c.inSample == true ? " (in-sample)" : "")]
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Plain text for a terminal: one block per claim.
    public var text: String {
        claims.map { c in
            "\(c.verdictText.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(c.figure): \(c.statement)"
                + (c.inSample == true ? " [in-sample]" : "") + "\n"
                + "         paper: \(c.paper) [\(c.source)]\n         ours:  \(c.ours)   (test: \(c.test))"
                + (c.note.map { "\n         note:  \($0)" } ?? "")
        }.joined(separator: "\n") + "\n"
    }
}

extension Claim {
    public var verdictText: String {
        switch verdict {
        case .holds: return "yes"
        case .fails: return "no"
        case .deferred: return "deferred"
        case .inconclusive: return "inconclusive"
        }
    }

    /// "Fig. 10" after "Fig. 9"; tables after figures.
    var figureOrder: Int {
        let digits = figure.filter(\.isNumber)
        let n = Int(digits) ?? 99
        return figure.hasPrefix("Table") ? 100 + n : n
    }
}
