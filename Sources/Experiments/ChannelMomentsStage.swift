import Foundation
import NN
import Pipeline

/// `channel-moments` (Fig. 5): per-channel mean and standard deviation of the activations at
/// layers 6, 18, …, 102 and 110 at initialisation, with and without BN, over one mini-batch.
///
/// Decisions (paper-notes §4 Fig. 5, §7.4):
/// - A conv layer's statistics are those of its output before BN (`ActivationPoint.convOutput`): after
///   BN every channel would have mean β = 0 and std γ = 1, which the paper's with-BN series (stds from
///   10⁻⁰·⁹ to 10¹) rule out. Layer 110 is the linear layer, whose "channels" are the 10 logits.
/// - Each point is the average over channels of log₁₀|μ_c| (or log₁₀ σ_c), the error bar the standard
///   deviation over channels of the same logs; log base 10, as the text's "scales of up to 10²".
/// - Moments are over the `batchSize` images and all positions of one mini-batch (`batches` > 1 pools
///   the per-channel moments of several by averaging them).
///
/// - Initialisation: pipeline.json runs this and every other analysis at initialisation (and `init`)
///   with `xavierNormal`. The paper says it uses "the trusted Xavier initialization" [paper-notes §1.1,
///   RECALL], and this figure decides it: with He-normal weights the no-BN ResNet-110's activations grow
///   by a factor √2 per block, to logits of about 10⁸·⁷ (loss ≈ 10⁹), where the paper shows about 10³·⁵
///   and writes of "outputs of scale up to 10²"; Xavier gives logits of about 10²·⁴.
///
/// Outputs: `moments.json` (per network and layer: the channels' means and stds and the two log
/// summaries), `depth-profile.csv` (the plotted numbers), `metrics.json`.
public struct ChannelMomentsStage: StageKind {
    public let name = "channel-moments"
    public let version = 1
    public let parameters = AnalysisSetup.networkParameters + [
        ParameterSpec("layers", .array, default: .array([6, 18, 30, 42, 54, 66, 78, 90, 102, 110].map { .number(Double($0)) }),
                      help: "layers whose channel moments are taken (the linear layer gives the logits')"),
        ParameterSpec("batches", .integer, default: 1, help: "mini-batches whose per-channel moments are averaged"),
    ]

    public init() {}

    /// Mean and std over channels of log₁₀ of a per-channel magnitude.
    public struct LogSummary: Codable, Equatable, Sendable {
        public let mean: Double
        public let std: Double

        public init(_ magnitudes: [Double]) {
            // A channel whose mean is exactly 0 has no logarithm; it can only come from dead channels.
            let logs = magnitudes.map { log10(max($0, Double.leastNormalMagnitude)) }
            let n = Double(max(logs.count, 1)), m = logs.reduce(0, +) / n
            mean = m
            std = (logs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
        }
    }

    public struct LayerMoments: Codable, Sendable {
        public let layer: Int
        public let channelMeans: [Double]
        public let channelStds: [Double]
        public let logAbsMean: LogSummary
        public let logStd: LogSummary
    }

    public struct Result: Codable, Sendable {
        public let layers: [Int]
        /// Network key (`bn`, `nobn`) → one entry per layer, in `layers` order.
        public let networks: [String: [LayerMoments]]
    }

    public func run(_ context: StageContext) throws {
        let started = Date()
        let layers = try context.ints("layers"), count = try context.int("batches")
        let batches = try AnalysisSetup.firstBatches(context, count: count)
        var networks: [String: [LayerMoments]] = [:]
        var rows: [[String]] = []
        for (v, variant) in NetworkVariant.both.enumerated() {
            let net = try AnalysisSetup.network(context, normalization: variant.normalization)
            if let bad = layers.first(where: { $0 < 1 || $0 > net.config.depth }) {
                throw PipelineError.badParameter(stage: context.stage, parameter: "layers",
                                                 problem: "layer \(bad) is not in ResNet-\(net.config.depth) (1…\(net.config.depth))")
            }
            var sums = [[Double]](repeating: [], count: layers.count), sqs = sums
            for (k, batch) in batches.enumerated() {
                let loss = try net.forward(images: batch.images, labels: batch.labels)
                for (j, l) in layers.enumerated() {
                    let m = try net.channelMoments(layer: l, at: .convOutput)
                    if sums[j].isEmpty { sums[j] = .init(repeating: 0, count: m.mean.count); sqs[j] = sums[j] }
                    for c in m.mean.indices { sums[j][c] += m.mean[c]; sqs[j][c] += m.variance[c] }
                }
                context.progress("\(variant.title): mini-batch \(k + 1)/\(count), loss \(String(format: "%.3g", loss))",
                                 fraction: Double(v * count + k + 1) / Double(2 * count))
            }
            var entries: [LayerMoments] = []
            for (j, l) in layers.enumerated() {
                let means = sums[j].map { $0 / Double(count) }, stds = sqs[j].map { ($0 / Double(count)).squareRoot() }
                try AnalysisIO.requireFinite(means + stds, "channel moments of layer \(l) (\(variant.title))", in: context)
                let e = LayerMoments(layer: l, channelMeans: means, channelStds: stds,
                                     logAbsMean: LogSummary(means.map(abs)), logStd: LogSummary(stds))
                entries.append(e)
                rows.append([variant.key, "\(l)", "\(means.count)", "\(e.logAbsMean.mean)", "\(e.logAbsMean.std)",
                             "\(e.logStd.mean)", "\(e.logStd.std)"])
                print(String(format: "%@ layer %3d: log10|mean| %+.2f ± %.2f, log10 std %+.2f ± %.2f", variant.title, l,
                             e.logAbsMean.mean, e.logAbsMean.std, e.logStd.mean, e.logStd.std))
            }
            networks[variant.key] = entries
        }
        try AnalysisSetup.writeJSON(Result(layers: layers, networks: networks), to: context.output("moments.json"))
        try AnalysisIO.writeCSV(header: ["network", "layer", "channels", "log10_abs_mean", "log10_abs_mean_std",
                                         "log10_std", "log10_std_std"], rows: rows, to: context.output("depth-profile.csv"))
        try AnalysisSetup.writeJSON(metrics(networks, layers: layers, seconds: Date().timeIntervalSince(started)),
                                    to: context.output("metrics.json"))
    }

    public struct Metrics: Codable, Sendable {
        public let layers: [Int]
        /// Decades gained from the first to the last layer, per network and statistic.
        public let growthDecades: [String: [String: Double]]
        public let seconds: Double
    }

    func metrics(_ networks: [String: [LayerMoments]], layers: [Int], seconds: Double) -> Metrics {
        var growth: [String: [String: Double]] = [:]
        for (key, entries) in networks {
            guard let first = entries.first, let last = entries.last else { continue }
            growth[key] = ["mean": last.logAbsMean.mean - first.logAbsMean.mean, "std": last.logStd.mean - first.logStd.mean]
        }
        return Metrics(layers: layers, growthDecades: growth, seconds: seconds)
    }
}
