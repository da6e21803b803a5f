import Foundation
import Pipeline

/// One colour bar of Fig. 4 against the paper's: the largest |mean| or variance over the whole step.
public struct ColourBarTerm: Codable, Equatable, Sendable {
    public var layer: Int
    /// The paper's layer this one stands for (8, 44, 80; by position when the recorded layers differ).
    public var paperLayer: Int
    /// "means" (largest |mean|) or "variances" (largest variance).
    public var moment: String
    public var ours: Double
    public var paper: Double
    /// |log₁₀(ours / paper)|.
    public var distance: Double
}

/// One candidate protocol and its score.
public struct DivergingUpdateCandidate: Codable, Equatable, Sendable {
    public var stage: String
    public var description: String
    public var outcome: DivergingUpdateOutcome
    public var learningRate: Double
    public var terms: [ColourBarTerm]
    /// The mean distance of the terms, in decades; nil when the candidate has no representable update.
    public var score: Double?
}

public struct DivergingUpdateChoice: Codable, Equatable, Sendable {
    public var candidates: [DivergingUpdateCandidate]
    public var chosenStage: String
    public var chosenDescription: String
    public var chosen: DivergingUpdateResult
}

/// `diverging-update-choice` (Fig. 4, issue 22 item 2): the paper says only that its update is "the
/// update responsible for divergence", not where training was when it happened or at which rate. Each
/// `diverging-update` dependency is one candidate protocol; this scores each against the paper's six
/// colour bars (the largest |mean| and variance at layers 8, 44 and 80 over the step, paper-notes §4
/// Fig. 4 [IMG]) as the mean |log₁₀(ours / paper)|, and keeps the lowest. The score was fixed before any
/// candidate was run. Fig. 4 draws the chosen update, and its claims are tested on it; those the score
/// reads are in-sample.
public struct DivergingUpdateChoiceStage: AnalysisKind, ParameterizedKind {
    public typealias Result = DivergingUpdateChoice
    public static let kindName = "diverging-update-choice"
    public static let tableFile = "fig4-protocols.md"
    public let version = 1
    /// None: the candidates are the deps.
    public struct Params: StageParams {
        public init() {}
    }

    public init() {}

    public enum Failure: Error, CustomStringConvertible {
        case noCandidate(stage: String, outcomes: [String])
        public var description: String {
            switch self {
            case let .noCandidate(stage, outcomes):
                return "stage '\(stage)': no candidate protocol has a representable diverging update ("
                    + (outcomes.isEmpty ? "it has no diverging-update deps" : outcomes.joined(separator: "; ")) + ")"
            }
        }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let candidates = try context.results(of: DivergingUpdateStage.self).map { input, result in
            (Self.candidate(stage: input.stage, description: Self.describe(try input.params(DivergingUpdateStage.Params.self)), result), result)
        }
        let scored = candidates.filter { $0.0.score != nil }
        // The lowest score; the first in dependency order on a tie.
        guard let best = scored.min(by: { $0.0.score! < $1.0.score! }) else {
            throw Failure.noCandidate(stage: context.stage, outcomes: candidates.map { "\($0.0.stage): \($0.0.outcome.rawValue)" })
        }
        let choice = DivergingUpdateChoice(candidates: candidates.map(\.0), chosenStage: best.0.stage,
                                           chosenDescription: best.0.description, chosen: best.1)
        try Data(Self.table(choice).utf8).write(to: context.output(Self.tableFile), options: .atomic)
        try context.write(choice, of: Self.self, claims: Self.claims(choice))
        print(Self.table(choice), terminator: "")
    }

    /// A candidate protocol in words, from its params.
    static func describe(_ params: DivergingUpdateStage.Params) -> String {
        let stable = params.stableSteps
        let start = stable > 0 ? "\(stable) steps at lr \(Self.rate(params.stableLr)), then " : "from initialisation, "
        if params.rateRule == .smallestDiverging {
            return start + "the smallest rate of \(params.lrGrid.map(Self.rate).joined(separator: ", ")) that diverges within \(params.maxSteps) steps"
        }
        return start + "lr \(Self.rate(params.lr)), ÷\(Self.rate(params.lrFactor)) while the update overflows float32"
    }

    static func rate(_ x: Double) -> String { String(format: "%.3g", x) }

    static func candidate(stage: String, description: String, _ r: DivergingUpdateResult) -> DivergingUpdateCandidate {
        let terms = r.outcome == .diverged ? colourBarTerms(r) : []
        let score = terms.isEmpty ? nil : terms.map(\.distance).reduce(0, +) / Double(terms.count)
        return DivergingUpdateCandidate(stage: stage, description: description, outcome: r.outcome, learningRate: r.learningRate,
                                        terms: terms, score: score)
    }

    /// Our six colour-bar maxima against the paper's. The recorded layers stand for the paper's by name
    /// when they are 8, 44 and 80, else by position (a smaller net's shallow, middle and deep layer).
    static func colourBarTerms(_ r: DivergingUpdateResult) -> [ColourBarTerm] {
        let paperLayers = PaperNumbers.fig4ColourBarMaxima.keys.sorted()
        let recorded = r.layers.map(\.layer)
        let pairs: [(LayerMoments, Int)]
        if Set(recorded).isSuperset(of: paperLayers) {
            pairs = paperLayers.compactMap { p in r.layers.first { $0.layer == p }.map { ($0, p) } }
        } else if recorded.count == paperLayers.count {
            pairs = Array(zip(r.layers, paperLayers))
        } else {
            return []
        }
        return pairs.flatMap { m, p -> [ColourBarTerm] in
            let paper = PaperNumbers.fig4ColourBarMaxima[p]!
            let ours = (means: m.means.joined().map(abs).max() ?? .nan, variances: m.variances.joined().max() ?? .nan)
            func term(_ moment: String, _ o: Double, _ q: Double) -> ColourBarTerm {
                let distance = o > 0 && o.isFinite ? abs(log10(o / q)) : .infinity
                return ColourBarTerm(layer: m.layer, paperLayer: p, moment: moment, ours: o, paper: q, distance: distance)
            }
            return [term("means", ours.means, paper.means), term("variances", ours.variances, paper.variances)]
        }
    }

    /// tables/fig4-protocols.md: every candidate, its outcome, its terms and its score.
    static func table(_ c: DivergingUpdateChoice) -> String {
        var lines = [
            "# Fig. 4's diverging update: candidate protocols scored against the paper's colour bars",
            "",
            "Score: the mean over the six colour bars (largest |mean| and variance at layers 8, 44, 80 over the step) of",
            "|log₁₀(ours / paper)|, in decades; paper-notes §4 Fig. 4 [IMG]: means 1.4, 3,700, 3·10⁸; variances 1.0,",
            "5.3·10⁶, 5.5·10¹⁶. Fixed before any candidate ran. Lowest wins; chosen: `\(c.chosenStage)`.",
            "",
            "| candidate | protocol | outcome | lr | " + ["8", "44", "80"].flatMap { ["L\($0) means", "L\($0) var"] }.joined(separator: " | ") + " | score |",
            "|---|---|---|---|" + String(repeating: "---|", count: 7),
        ]
        for k in c.candidates {
            let terms = k.terms.map { String(format: "%.3g (%.1f)", $0.ours, $0.distance) }
            let cells = terms.count == 6 ? terms : Array(repeating: "–", count: 6)
            let mark = k.stage == c.chosenStage ? " **chosen**" : ""
            lines.append("| `\(k.stage)`\(mark) | \(k.description) | \(k.outcome.rawValue) | \(rate(k.learningRate)) | "
                         + cells.joined(separator: " | ") + " | " + (k.score.map { String(format: "%.2f", $0) } ?? "–") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
