import Foundation
import Pipeline

/// Fig. 1's claims about the large rate without BN (issue 21, claim 3). The paper's statement is about
/// its ResNet-110, so a probe of that net decides it: from initialisation, at the large rate throughout
/// (no warm-up, no drop), for at most 200 steps. The drawn net (ResNet-20 at quick) is rescued by the
/// rate drops, so it is judged before the first one.
extension Fig1Accuracy {
    static let chance = 0.1

    static func largeRateClaims(runs: [Configuration: [TrainMetrics]], probes: [TrainMetrics], large: Double, source: String) -> [Claim] {
        var claims: [Claim] = []
        let deepProbes = probes.filter { $0.normalization == .none && $0.learningRate == large }
        if !deepProbes.isEmpty {
            claims.append(probeClaim(deepProbes, large: large, source: source))
        }
        if let drawn = runs[Configuration(bn: false, lr: large)], !drawn.isEmpty {
            claims.append(beforeDropClaim(drawn, large: large, source: source))
        }
        return claims
    }

    /// Training accuracy over a probe's last evaluation window (SGD's own tally: augmented, BN in
    /// training mode), and the window's steps.
    static func lastWindow(_ m: TrainMetrics) -> (accuracy: Double, steps: Int)? {
        guard let last = m.evaluations.last else { return nil }
        let before = m.evaluations.dropLast().last?.step ?? 0
        return (last.trainAccuracy, last.step - before)
    }

    /// Diverged (a loss above the threshold), or the last window's training accuracy within 2 points of chance.
    static func probeClaim(_ probes: [TrainMetrics], large: Double, source: String) -> Claim {
        let depths = Set(probes.map(\.depth)).sorted().map { "ResNet-\($0)" }.joined(separator: "/")
        var failsToTrain = true
        let perRun: [String] = probes.map { m in
            if m.diverged {
                return String(format: "seed %d diverged at step %d (loss %.3g)", m.seed, m.divergenceStep ?? -1, m.divergenceLoss ?? .nan)
            }
            guard let w = lastWindow(m) else { failsToTrain = false; return "seed \(m.seed): no evaluation" }
            if abs(w.accuracy - chance) > 0.02 { failsToTrain = false }
            return String(format: "seed %d: %.1f %% over its last %d steps", m.seed, 100 * w.accuracy, w.steps)
        }
        let steps = Set(probes.map(\.totalSteps)).sorted().map(String.init).joined(separator: "/")
        return Claim(id: "fig1.nobn-large-rate-fails", figure: "Fig. 1",
                     statement: "without BN the paper's \(depths) does not train at \(rateText(large)): from initialisation, with no warm-up "
                        + "and no rate drop, it diverges or its training accuracy stays within 2 points of chance",
                     paper: "diverges (not shown)", source: source,
                     ours: "\(steps) steps: " + perRun.joined(separator: "; "),
                     test: "every seed: loss > 10³, or |accuracy over the last window − 10 %| ≤ 2 points",
                     verdict: Claim.verdict(failsToTrain))
    }

    /// The drawn net at the large rate, judged on its test accuracy at the last evaluation before the
    /// first rate drop (a run that diverged counts as chance): within 5 points of chance, beyond its noise.
    static func beforeDropClaim(_ drawn: [TrainMetrics], large: Double, source: String) -> Claim {
        // An evaluation records the float32 rate of its last step: at the base rate, no drop has happened yet.
        func beforeDrop(_ m: TrainMetrics) -> (accuracy: Double, images: Int, epoch: Double?) {
            guard !m.diverged, let e = m.evaluations.last(where: { Float($0.learningRate) == Float(m.learningRate) })
            else { return (chance, m.testImages, nil) }
            return (e.testAccuracy, m.testImages, e.epoch)
        }
        let points = drawn.map(beforeDrop)
        let accuracy = SeededAccuracy(values: points.map(\.accuracy), images: points.map(\.images).min() ?? 0)
        let bar = chance + 0.05
        let verdict = NoisyVerdict.atMost(accuracy, bar)
        let depths = Set(drawn.map(\.depth)).sorted().map { "ResNet-\($0)" }.joined(separator: "/")
        let epochs = Set(points.compactMap(\.epoch)).sorted().map { String(format: "%g", $0) }.joined(separator: "/")
        return Claim(id: "fig1.nobn-large-rate-before-drop", figure: "Fig. 1",
                     statement: "without BN the drawn \(depths) does not train at \(rateText(large)) before its first rate drop: "
                        + "test accuracy within 5 points of chance",
                     paper: "diverges (not shown; the paper's net is ResNet-110)", source: source,
                     ours: "\(accuracy.text) at epoch \(epochs.isEmpty ? "—" : epochs), before the first drop",
                     test: "mean + 2 SE ≤ 15 % holds, mean − 2 SE > 15 % fails, else inconclusive",
                     verdict: verdict)
    }
}
