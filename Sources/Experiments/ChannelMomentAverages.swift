import Foundation
import NN

/// Per-channel means and variances of some layers' conv outputs, averaged over the forward passes
/// added: what Fig. 5 and the calibration read.
struct ChannelMomentAverages {
    let layers: [Int]
    private var meanSums: [[Double]], varianceSums: [[Double]]
    private(set) var passes = 0

    init(layers: [Int]) {
        self.layers = layers
        meanSums = [[Double]](repeating: [], count: layers.count)
        varianceSums = meanSums
    }

    /// Adds the moments of `net`'s last forward pass.
    mutating func add(_ net: ResNet) throws {
        for (j, l) in layers.enumerated() {
            let m = try net.channelMoments(layer: l, at: .convOutput)
            if meanSums[j].isEmpty { meanSums[j] = .init(repeating: 0, count: m.mean.count); varianceSums[j] = meanSums[j] }
            for c in m.mean.indices { meanSums[j][c] += m.mean[c]; varianceSums[j][c] += m.variance[c] }
        }
        passes += 1
    }

    /// The j-th layer's channel means and stds over the passes so far.
    func moments(_ j: Int) -> (means: [Double], stds: [Double]) {
        let n = Double(max(passes, 1))
        return (meanSums[j].map { $0 / n }, varianceSums[j].map { ($0 / n).squareRoot() })
    }
}

/// What a batch of logits predicts: images per argmax class, and the mean of the largest softmax
/// probability (1 when the net is sure of one class for every image). Figs. 6 and the calibration.
struct PredictionSummary {
    var predictedPerClass: [Int]
    var maxProbabilitySum = 0.0
    var perplexitySum = 0.0
    var maxAbsLogit = 0.0
    var images = 0

    init(classes: Int) { predictedPerClass = [Int](repeating: 0, count: classes) }

    mutating func add(logits z: [Double]) {
        let k = predictedPerClass.count
        for b in 0..<(z.count / k) {
            let row = z[(b * k)..<((b + 1) * k)]
            let top = row.max() ?? 0
            predictedPerClass[(row.firstIndex(of: top) ?? b * k) - b * k] += 1
            let weights = row.map { exp($0 - top) }, total = weights.reduce(0, +)
            maxProbabilitySum += 1 / total
            // Entropy of the softmax row, from the shifted logits: H = ln Σ − Σ w (z − top) / Σ.
            perplexitySum += exp(log(total) - zip(weights, row).map { w, z in w * (z - top) }.reduce(0, +) / total)
            maxAbsLogit = max(maxAbsLogit, row.map(abs).max() ?? 0)
            images += 1
        }
    }

    var meanMaxProbability: Double { maxProbabilitySum / Double(max(images, 1)) }
    /// Mean over images of exp(entropy of the softmax row): the number of classes an image's probability is
    /// effectively spread over (1: certain of one class).
    var meanPerplexity: Double { perplexitySum / Double(max(images, 1)) }
    var modalClass: Int { predictedPerClass.indices.max { predictedPerClass[$0] < predictedPerClass[$1] } ?? 0 }
    var modalShare: Double { Double(predictedPerClass[modalClass]) / Double(max(images, 1)) }
}
