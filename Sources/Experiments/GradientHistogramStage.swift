import Foundation
import NN
import Pipeline
import Statistics

/// `gradient-histogram` (Fig. 2): the gradient of one conv layer's weights (layer 55 in the paper, a
/// 32→32 3×3 conv with 9,216 weights) at initialisation, with and without BN, for the loss averaged
/// over a mini-batch of `batchSize` images.
///
/// Decision (paper-notes §4, Fig. 2 "unresolved"): the paper's histograms hold about 10⁵ values, ten
/// times one layer's 9,216 weights. We pool the gradients of the first `batches` mini-batches (default
/// 5, 46,080 values: the paper's order of magnitude within the quick profile's time budget, as every
/// mini-batch is a full ResNet-110 forward and backward per network) of the first epoch, all taken at
/// the same initial weights (no update in between): every value is a genuine per-mini-batch gradient
/// of layer 55. The figure's title says how many were pooled.
///
/// Outputs: `gradients-{bn,nobn}.npy` (float32 [batches, out, in, 3, 3]), `gradient-histogram.json`
/// (edges and counts over each sample's own range, `bins` bins, as numpy's default; summaries), claims.
public struct GradientHistogramStage: AnalysisKind, ParameterizedKind {
    public static let kindName = "gradient-histogram"
    public static func gradients(_ variant: NetworkVariant) -> String { "gradients-\(variant.key).npy" }
    /// 6: `seconds` left the result (the action record keeps the time). 7: claims decided over `seeds`.
    /// 8: the result no longer repeats the seeds (they are in the params).
    public let version = 8

    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @Param("conv layer whose weight gradient is histogrammed (55 in the paper)") public var layer = 55
        @Param("mini-batches pooled (one gradient each, same initial weights)") public var batches = 5
        @Param("histogram bins (the paper's look: hundreds)") public var bins = 200
        @ParamGroup public var seeding = SeedsParams()

        public init() {}
    }

    public init() {}

    public struct Histogram1D: Codable, Equatable, Sendable {
        public let edges: [Double]
        public let counts: [Double]
    }

    public struct Result: Codable, Sendable {
        public let depth: Int
        public let layer: Int
        public let batches: Int
        public let batchSize: Int
        public let weightsPerBatch: Int
        public let histograms: [String: Histogram1D]
        public let summaries: [String: SampleSummary]
        /// Interquartile range per network: the no-BN tails are heavy, so the std alone overstates.
        public let interquartileRanges: [String: Double]
        /// std without BN / std with BN ("almost two orders of magnitude larger").
        public let stdRatioNoBNOverBN: Double
        /// Every seed's pooled std per network, the first (the figure's) included, in seed order.
        public let stdsPerSeed: [String: [Double]]
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let layer = params.layer, count = params.batches, bins = params.bins
        guard bins >= 1 else { throw PipelineError.badParameter(stage: context.stage, parameter: "bins", problem: "must be positive") }
        var histograms: [String: Histogram1D] = [:], summaries: [String: SampleSummary] = [:], iqrs: [String: Double] = [:]
        var weights = 0
        let stds = try AnalysisSetup.overSeeds(context, params.network, seeds: params.seeding.seeds, batches: count,
                                               loaded: try AnalysisSetup.data(context)) { run, net -> Double in
            guard layer >= 1, layer < net.config.depth else {
                throw PipelineError.badParameter(stage: context.stage, parameter: "layer",
                                                 problem: "\(layer) is not a conv layer of ResNet-\(net.config.depth) (1…\(net.config.depth - 1))")
            }
            var pooled: [Float] = [], shape: [Int] = []
            for (k, batch) in run.batches.enumerated() {
                let loss = try net.forward(images: batch.images, labels: batch.labels)
                try net.backward()
                let g = try net.weightGradient(layer: layer)
                try AnalysisIO.requireFinite(g.data, "layer \(layer) gradient (\(run.variant.title), seed \(run.seed), batch \(k), loss \(loss))", in: context)
                pooled += g.data
                shape = g.shape
            }
            let values = pooled.map(Double.init)
            let s = SampleSummary(values)
            print("seed \(run.seed), \(run.variant.title): \(s.count) gradient values of layer \(layer) (\(count) × \(shape.reduce(1, *))); mean \(s.mean), "
                  + "std \(s.std), range [\(s.min), \(s.max)], excess kurtosis \(s.excessKurtosis)")
            if run.isFirst {
                weights = shape.reduce(1, *)
                try AnalysisIO.writeNPY(pooled, shape: [count] + shape, to: context.output(Self.gradients(run.variant)))
                let h = EqualWidthBins(values, bins: bins)
                histograms[run.variant.key] = Histogram1D(edges: h.edges, counts: h.counts)
                summaries[run.variant.key] = s
                iqrs[run.variant.key] = SampleSummary.interquartileRange(values)
            }
            return s.std
        }
        let stdsPerSeed = Dictionary(uniqueKeysWithValues: NetworkVariant.both.map { v in (v.key, stds.compactMap { $0[v.key] }) })
        let ratio = (summaries["nobn"]?.std ?? .nan) / (summaries["bn"]?.std ?? .nan)
        print(String(format: "std ratio w/o BN / with BN (first seed): %.1f", ratio))
        let result = Result(depth: params.network.depth, layer: layer, batches: count, batchSize: params.network.batchSize, weightsPerBatch: weights,
                            histograms: histograms, summaries: summaries, interquartileRanges: iqrs, stdRatioNoBNOverBN: ratio,
                            stdsPerSeed: stdsPerSeed)
        try context.write(result, of: Self.self, claims: Self.claims(result))
    }

    /// Fig. 2's claims (paper-notes §4, Fig. 2): the no-BN gradients are about two orders of magnitude
    /// larger, and the BN histogram's spread is about 0.013. Both are scales whose seeds spread
    /// multiplicatively, so each is decided in log₁₀ on the mean over seeds ± 2 SE (`SeedSample`).
    static func claims(_ r: Result) -> [Claim] {
        let bn = SeedSample(r.stdsPerSeed["bn"] ?? []), noBN = SeedSample(r.stdsPerSeed["nobn"] ?? [])
        let ratio = SeedSample(zip(noBN.values, bn.values).map { $0 / $1 })
        let iqrBN = r.interquartileRanges["bn"] ?? .nan, iqrNoBN = r.interquartileRanges["nobn"] ?? .nan
        let iqrNote = String(format: "first seed's interquartile ranges: with BN %.3g, w/o BN %.3g (ratio %.3g)", iqrBN, iqrNoBN, iqrNoBN / iqrBN)
        return [
            Claim(id: "fig2.std-ratio", figure: "Fig. 2",
                  statement: "layer-\(r.layer) gradients at initialisation are about two orders of magnitude larger without BN (std ratio)",
                  paper: "≈ 100", source: "paper-notes §4 Fig. 2 [IMG axes ±0.04 vs ±4; RECALL caption]",
                  ours: ratio.text(), test: "log₁₀ mean − 2 SE over seeds ≥ log₁₀ 30",
                  verdict: ratio.log10.atLeast(log10(30)), note: iqrNote),
            Claim(id: "fig2.bn-std", figure: "Fig. 2", statement: "the BN histogram's standard deviation",
                  paper: "≈ 0.013", source: "paper-notes §4 Fig. 2 [INF from the IMG tails]",
                  ours: bn.text(), test: "log₁₀ mean ± 2 SE over seeds within log₁₀ of 0.013 / 2 … 0.013 × 2",
                  verdict: bn.log10.within(log10(0.013 / 2), log10(0.013 * 2))),
        ]
    }
}
