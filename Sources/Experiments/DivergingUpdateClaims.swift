import Foundation
import Pipeline

/// Fig. 4's claims (paper-notes §4, Fig. 4), on the chosen candidate's update: at the end of the diverging
/// update the deep layer's variances are many orders above the shallow one's, at the paper's scale, and
/// they explode late in the step, the deeper the later. The paper's colour scales are linear, so "late" is
/// read as a linear colour bar shows it: the first t at which a layer's largest channel variance passes
/// 10 % of its end value (on a linear bar, the first visible colour). The protocol was chosen by its
/// distance to the colour bars, so the claims that read their scales are in-sample; the timing is not
/// scored, so the late-explosion claim is out of sample.
extension DivergingUpdateChoiceStage {
    static func claims(_ choice: DivergingUpdateChoice) -> [Claim] {
        let r = choice.chosen
        let source = "paper-notes §4 Fig. 4 [IMG colour bars]"
        func maxVariance(_ m: LayerMoments, _ i: Int) -> Double { m.variances[i].max() ?? .nan }
        guard let shallow = r.layers.first, let deep = r.layers.last, deep.layer != shallow.layer, let last = r.t.indices.last else { return [] }
        let ratio = maxVariance(deep, last) / maxVariance(shallow, last)
        let endScale = maxVariance(deep, last)
        let setting = "the update of step \(r.updateStep + 1) at lr \(rate(r.learningRate)) (\(choice.chosenDescription))"
        let visible = r.layers.map { m in firstVisible(r.t, (0...last).map { maxVariance(m, $0) }) }
        let ordered = zip(visible, visible.dropFirst()).allSatisfy { a, b in a.map { a in b.map { a < $0 } ?? false } ?? false }
        let deepLate = (visible.last ?? nil).map { $0 >= 0.8 } ?? false
        let visibleText = zip(r.layers, visible).map { m, t in "layer \(m.layer): " + (t.map { String(format: "%.2f", $0) } ?? "never") }
            .joined(separator: ", ")
        let chosen = choice.candidates.first { $0.stage == choice.chosenStage }
        let others = choice.candidates.filter { $0.stage != choice.chosenStage }
            .map { "\($0.stage): " + ($0.score.map { String(format: "%.2f", $0) } ?? $0.outcome.rawValue) }.joined(separator: "; ")
        var claims = [
            Claim(id: "fig4.depth-scale", figure: "Fig. 4",
                  statement: "at the end of the diverging update, layer \(deep.layer)'s largest channel variance over layer \(shallow.layer)'s",
                  paper: "≈ 5·10¹⁶ / 1.0", source: source, ours: String(format: "%.3g", ratio), test: "ours ≥ 10⁶",
                  verdict: Claim.verdict(ratio.isFinite ? ratio >= 1e6 : false),
                  note: String(format: "%@; loss after it %.3g", setting, r.divergedLoss)),
            // A bound on both sides: a net whose update overflows into any huge scale must not pass.
            Claim(id: "fig4.end-scale", figure: "Fig. 4",
                  statement: "at the end of the diverging update, layer \(deep.layer)'s largest channel variance is at the paper's scale",
                  paper: "≈ 5·10¹⁶", source: source, ours: String(format: "%.3g", endScale), test: "within 10^±3 of 5·10¹⁶",
                  verdict: Claim.verdict(endScale.isFinite && endScale >= 5e13 && endScale <= 5e19)),
            Claim(id: "fig4.late-explosion", figure: "Fig. 4",
                  statement: "the variances explode late in the step, deeper layers later: the first t at which a layer's largest channel variance passes 10 % of its end value",
                  paper: "layer 80 dark until the last 10–20 % (linear colour bars)", source: source, ours: visibleText,
                  test: "layer \(deep.layer) at t ≥ 0.8, and later for deeper layers",
                  verdict: Claim.verdict(deepLate && ordered)),
        ]
        if let chosen, let score = chosen.score {
            let terms = chosen.terms.map { "L\($0.layer) \($0.moment == "means" ? "|mean|" : "var") \(String(format: "%.2g", $0.ours))" }
                .joined(separator: ", ")
            claims.append(Claim(id: "fig4.colour-bars", figure: "Fig. 4",
                                statement: "the chosen protocol's six colour bars (largest |mean| and variance at layers 8, 44, 80 over the step) are at the paper's scales",
                                paper: "|mean| 1.4, 3,700, 3·10⁸; variance 1.0, 5.3·10⁶, 5.5·10¹⁶", source: source,
                                ours: String(format: "%@: %.2f decades on average (%@)", chosen.stage, score, terms),
                                test: "mean |log₁₀(ours / paper)| ≤ 1", verdict: Claim.verdict(score <= 1),
                                note: others.isEmpty ? nil : "other candidates: " + others))
        }
        return claims.map { claim in
            var c = claim
            if claim.id != "fig4.late-explosion" { c.inSample = true }
            return c
        }
    }

    /// The first t at which `values` (along t) passes 10 % of its last value; nil when the last value is
    /// not finite and positive.
    static func firstVisible(_ t: [Double], _ values: [Double]) -> Double? {
        guard let end = values.last, end.isFinite, end > 0 else { return nil }
        return zip(t, values).first { $0.1 > 0.1 * end }?.0
    }
}
