import Foundation

/// What the training figures (Fig. 1, App. E) draw from a configuration's runs: the mean over seeds of
/// an evaluation series with a ± one standard deviation band (population std, numpy's default), over
/// the runs that did not diverge.
struct TrainCurve {
    let percentOfTraining: [Double]
    let mean: [Double]
    let spread: [Double]
    /// Runs left out because they diverged (or never evaluated).
    let left: Int

    /// nil when every run diverged: nothing to draw.
    init?(_ runs: [TrainMetrics], _ value: KeyPath<TrainEvaluation, Double>) {
        let kept = runs.filter { !$0.diverged && !$0.evaluations.isEmpty }
        guard let points = kept.map(\.evaluations.count).min(), points > 0 else { return nil }
        percentOfTraining = (0..<points).map { kept[0].evaluations[$0].percentOfTraining }
        var mean: [Double] = [], spread: [Double] = []
        for i in 0..<points {
            let v = kept.map { 100 * $0.evaluations[i][keyPath: value] }
            let mu = v.reduce(0, +) / Double(v.count)
            mean.append(mu)
            spread.append((v.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(v.count)).squareRoot())
        }
        self.mean = mean
        self.spread = spread
        left = runs.count - kept.count
    }
}

extension TrainMetrics {
    /// The final test accuracy (on the endpoint's full test set where measured), chance (10 %) for a run
    /// that diverged: it ended nowhere.
    var finalTestAccuracyOrChance: Double { diverged ? 0.1 : (endpoint?.testAccuracy ?? final?.testAccuracy ?? 0.1) }
    /// The images the final test accuracy was measured on.
    var finalTestImages: Int { endpoint?.testImages ?? testImages }
}

extension Array where Element == TrainMetrics {
    /// The runs' final test accuracies (a diverged run counts as chance), with the smallest test set any
    /// of them was measured on: what Fig. 1's and App. E's comparisons decide on.
    var finalTestAccuracy: SeededAccuracy {
        SeededAccuracy(values: map(\.finalTestAccuracyOrChance), images: map(\.finalTestImages).min() ?? 0)
    }

    /// Every run reached its plateau (false for no runs): only then do their end points compare.
    var allAtPlateau: Bool { !isEmpty && allSatisfy(\.reachedPlateau) }
}
