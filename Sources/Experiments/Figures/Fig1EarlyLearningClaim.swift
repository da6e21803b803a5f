import Foundation
import Pipeline

/// Fig. 1's claim 4 at the paper's scale (issue 21): the unnormalised ResNet-110 keeps learning at the
/// paper's small rate, as the paper's red curve does, whose training accuracy is above 60 % by about 5 % of
/// its 2,400 epochs. Read only on ResNet-110 runs (the paper profile); at quick the same claim is made on
/// the first steps (`fig3.nobn-keeps-learning`), since a ResNet-20 run says nothing about the paper's net.
extension Fig1Accuracy {
    static let earlyShare = 5.0
    static let earlyAccuracy = 0.6

    /// SGD's own training accuracy (augmented, the window ending at the first evaluation at ≥ 5 % of
    /// training) per seed; a run that diverged before it counts as chance.
    static func earlyLearningClaim(_ runs: [TrainMetrics], small: Double, source: String) -> Claim? {
        let deep = runs.filter { $0.depth == 110 && $0.normalization == .none }
        guard !deep.isEmpty else { return nil }
        let points = deep.map { m -> (accuracy: Double, epoch: Double?) in
            guard let e = m.evaluations.first(where: { $0.percentOfTraining >= earlyShare }) else { return (chance, nil) }
            return (e.trainAccuracy, e.epoch)
        }
        let accuracy = SeededAccuracy(values: points.map(\.accuracy), images: deep.map(\.trainImages).min() ?? 0)
        let epochs = Set(points.compactMap(\.epoch)).sorted().map { String(format: "%g", $0) }.joined(separator: "/")
        return Claim(id: "fig1.nobn-small-rate-learns", figure: "Fig. 1",
                     statement: "without BN the paper's ResNet-110 keeps learning at \(rateText(small)): training accuracy above 60 % by 5 % of training",
                     paper: "above 60 % by about 5 % of 2,400 epochs (red curve)", source: source,
                     ours: "\(accuracy.text) at epoch \(epochs.isEmpty ? "— (diverged before)" : epochs)",
                     test: "mean − 2 SE ≥ 60 % holds, mean + 2 SE < 60 % fails, else inconclusive",
                     verdict: NoisyVerdict.atLeast(accuracy, earlyAccuracy))
    }
}
