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
/// - Log base: a parameter (`logBase`, "10" or "e"); the calibration stage measures which base fits
///   the paper's axis, and pipeline.json's defaults carry its answer.
///
/// Outputs: `channel-moments.json` (per network and layer: the channels' means and stds and the two
/// log summaries in the chosen base), `depth-profile.csv` (the plotted numbers), `claims.json`.
public struct ChannelMomentsStage: AnalysisKind, ParameterizedKind {
    public static let kindName = "channel-moments"
    public static let depthProfileCSV = "depth-profile.csv"
    /// 4: `seconds` left the result (the action record keeps the time). 5: the claim on the BN stage pattern; every claim decided over `seeds`.
    /// 6: `networks` is the first of `perSeed`, not stored twice.
    public let version = 6

    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @ParamGroup public var seeding = SeedsParams()
        @Param("layers whose channel moments are taken (the linear layer gives the logits')")
        public var layers = [6, 18, 30, 42, 54, 66, 78, 90, 102, 110]
        @Param("mini-batches whose per-channel moments are averaged") public var batches = 1
        @Param("base of the plotted logarithms: \"10\" or \"e\" (the paper does not say)") public var logBase = LogBase.ten

        public init() {}
    }

    public init() {}

    /// Mean and std over channels of the logarithm of a per-channel magnitude.
    public struct LogSummary: Codable, Equatable, Sendable {
        public let mean: Double
        public let std: Double

        public init(_ magnitudes: [Double], base: LogBase = .ten) {
            // A channel whose mean is exactly 0 has no logarithm; it can only come from dead channels.
            let logs = magnitudes.map { base.log(max($0, Double.leastNormalMagnitude)) }
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
        public let depth: Int
        public let batches: Int
        public let batchSize: Int
        public let layers: [Int]
        public let logBase: LogBase
        /// Log units gained from the first to the last layer, per network and statistic (first seed).
        public let growth: [String: [String: Double]]
        /// Every seed's entries in seed order, per network key (`bn`, `nobn`): one per layer, in `layers`
        /// order. The claims read these.
        public let perSeed: [[String: [LayerMoments]]]
        /// The figure's seed (the first).
        public var networks: [String: [LayerMoments]] { perSeed.first ?? [:] }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let layers = params.layers, count = params.batches, base = params.logBase
        var rows: [[String]] = []
        let perSeed = try AnalysisSetup.overSeeds(context, params.network, seeds: params.seeding.seeds, batches: count,
                                                  loaded: try AnalysisSetup.data(context)) { run, net -> [LayerMoments] in
            if let bad = layers.first(where: { $0 < 1 || $0 > net.config.depth }) {
                throw PipelineError.badParameter(stage: context.stage, parameter: "layers",
                                                 problem: "layer \(bad) is not in ResNet-\(net.config.depth) (1…\(net.config.depth))")
            }
            var averages = ChannelMomentAverages(layers: layers)
            for batch in run.batches {
                _ = try net.forward(images: batch.images, labels: batch.labels)
                try averages.add(net)
            }
            return try layers.enumerated().map { j, l in
                let (means, stds) = averages.moments(j)
                try AnalysisIO.requireFinite(means + stds, "channel moments of layer \(l) (\(run.variant.title), seed \(run.seed))", in: context)
                let e = LayerMoments(layer: l, channelMeans: means, channelStds: stds,
                                     logAbsMean: LogSummary(means.map(abs), base: base), logStd: LogSummary(stds, base: base))
                if run.isFirst {
                    rows.append([run.variant.key, "\(l)", "\(means.count)", "\(e.logAbsMean.mean)", "\(e.logAbsMean.std)",
                                 "\(e.logStd.mean)", "\(e.logStd.std)"])
                }
                print(String(format: "seed %d, %@ layer %3d: log%@|mean| %+.2f ± %.2f, log std %+.2f ± %.2f", run.seed, run.variant.title, l,
                             base.rawValue, e.logAbsMean.mean, e.logAbsMean.std, e.logStd.mean, e.logStd.std))
                return e
            }
        }
        let networks = perSeed[0]
        try AnalysisIO.writeCSV(header: ["network", "layer", "channels", "log_abs_mean", "log_abs_mean_std",
                                         "log_std", "log_std_std"], rows: rows, to: context.output(Self.depthProfileCSV))
        var growth: [String: [String: Double]] = [:]
        for (key, entries) in networks {
            guard let first = entries.first, let last = entries.last else { continue }
            growth[key] = ["mean": last.logAbsMean.mean - first.logAbsMean.mean, "std": last.logStd.mean - first.logStd.mean]
        }
        let result = Result(depth: params.network.depth, batches: count, batchSize: params.network.batchSize, layers: layers, logBase: base,
                            growth: growth, perSeed: perSeed)
        try context.write(result, of: Self.self, claims: Self.claims(result))
    }

    /// Fig. 5's claims, on the paper's layers where we have them (paper-notes §4, Fig. 5), each decided on
    /// the mean over seeds ± 2 SE (`SeedSample`; one seed decides on its point).
    static func claims(_ r: Result) -> [Claim] {
        func series(_ networks: [String: [LayerMoments]], _ key: String, means: Bool) -> [Int: Double] {
            Dictionary(uniqueKeysWithValues: (networks[key] ?? []).map { ($0.layer, means ? $0.logAbsMean.mean : $0.logStd.mean) })
        }
        let unit = "log\(r.logBase == .ten ? "₁₀" : " (ln)")"
        var claims: [Claim] = []
        for (means, name, paper) in [(true, "mean", PaperNumbers.fig5MeansNoBN), (false, "std", PaperNumbers.fig5StdsNoBN)] {
            let perSeed = r.perSeed.map { series($0, "nobn", means: means) }
            guard perSeed.allSatisfy({ $0[6] != nil && $0[102] != nil }), !perSeed.isEmpty else { continue }
            let growth = SeedSample(perSeed.map { $0[102]! - $0[6]! })
            let paperGrowth = paper[8] - paper[0]
            claims.append(Claim(id: "fig5.nobn-\(name)-growth", figure: "Fig. 5",
                                statement: "without BN the channel \(name)s grow with depth at initialisation (layer 6 → 102, \(unit))",
                                paper: String(format: "%+.2f", paperGrowth), source: PaperNumbers.fig5Source,
                                ours: growth.text("%+.2f"), test: "mean − 2 SE over seeds ≥ 4 axis units", verdict: growth.atLeast(4)))
            let compared = PaperNumbers.fig5Layers.filter { l in perSeed.allSatisfy { $0[l] != nil } }.count
            let close = SeedSample(perSeed.map { ours in
                Double(zip(PaperNumbers.fig5Layers, paper).filter { l, v in ours[l].map { abs($0 - v) <= 1.5 } ?? false }.count)
            })
            claims.append(Claim(id: "fig5.nobn-\(name)-match", figure: "Fig. 5",
                                statement: "without BN the channel \(name)s match the paper's points (\(unit))",
                                paper: paper.map { String(format: "%.2f", $0) }.joined(separator: " "), source: PaperNumbers.fig5Source,
                                ours: close.text("%.1f") + " of \(compared) layers within 1.5", test: "mean − 2 SE over seeds ≥ 7 of 10 layers within 1.5",
                                verdict: compared == 10 ? close.atLeast(7) : .fails))
        }
        let worst = SeedSample(r.perSeed.map { networks in
            [true, false].flatMap { series(networks, "bn", means: $0).values }.map(abs).max() ?? .nan
        })
        claims.append(Claim(id: "fig5.bn-flat", figure: "Fig. 5",
                            statement: "with BN the channel means and stds stay roughly constant across depth (\(unit))",
                            paper: "all points within [−1.2, 1.0]", source: PaperNumbers.fig5Source,
                            ours: "largest |point| " + worst.text("%.2f"), test: "mean + 2 SE over seeds of the largest |point| ≤ 1.5",
                            verdict: worst.atMost(1.5)))
        if let pattern = stagePattern(r) { claims.append(pattern) }
        return claims
    }

    /// With BN the paper's points dip at layers 42 and 78, the first read layers of stages 2 and 3: both the
    /// means and the stds lie below both neighbouring read layers, by 0.57–0.77 axis units. Each of our four
    /// dips (means and stds at 42 and 78) is the gap to the lower neighbour. Its standard error is the
    /// seeds' (over several seeds) or, with one seed, that of the three channel averages (std over channels
    /// / √channels). Holds when every dip exceeds 2 SE, fails when any point lies above a neighbour by more
    /// than 2 SE, inconclusive otherwise. Only on ResNet-110.
    static func stagePattern(_ r: Result) -> Claim? {
        let dipLayers = [(42, 30, 54), (78, 66, 90)]
        let bySeed = r.perSeed.map { networks in Dictionary(uniqueKeysWithValues: (networks["bn"] ?? []).map { ($0.layer, $0) }) }
        guard r.depth == 110, !bySeed.isEmpty,
              bySeed.allSatisfy({ byLayer in dipLayers.allSatisfy { byLayer[$0.0] != nil && byLayer[$0.1] != nil && byLayer[$0.2] != nil } })
        else { return nil }
        var dips: [(dip: Double, se: Double)] = [], described: [String] = []
        for means in [true, false] {
            for (at, before, after) in dipLayers {
                let perSeed = bySeed.map { byLayer -> (dip: Double, se: Double) in
                    func point(_ l: Int) -> (value: Double, se: Double) {
                        let m = byLayer[l]!, s = means ? m.logAbsMean : m.logStd
                        return (s.mean, s.std / Double(max(m.channelMeans.count, 1)).squareRoot())
                    }
                    let p = point(at), lower = [point(before), point(after)].min { $0.value < $1.value }!
                    return (lower.value - p.value, (p.se * p.se + lower.se * lower.se).squareRoot())
                }
                let sample = SeedSample(perSeed.map(\.dip))
                let dip = (sample.mean, perSeed.count > 1 ? sample.standardError : perSeed[0].se)
                dips.append(dip)
                described.append(String(format: "%@ %d: %+.2f ± %.2f", means ? "means" : "stds", at, dip.0, dip.1))
            }
        }
        let verdict: Claim.Verdict = dips.allSatisfy { $0.dip > 2 * $0.se } ? .holds
            : dips.contains { $0.dip < -2 * $0.se } ? .fails : .inconclusive
        return Claim(id: "fig5.bn-stage-pattern", figure: "Fig. 5",
                     statement: "with BN the channel means and stds dip at layers 42 and 78, the first read layers of stages 2 and 3",
                     paper: "dips of 0.57–0.77 below the lower neighbour", source: PaperNumbers.fig5Source,
                     ours: "dips " + described.joined(separator: ", ") + (bySeed.count > 1 ? " (SE over \(bySeed.count) seeds)" : " (SE over channels)"),
                     test: "every dip > 2 SE (fails: a point above a neighbour by > 2 SE)", verdict: verdict)
    }
}

/// The base of Fig. 5's logarithms.
public enum LogBase: String, Codable, Sendable, CaseIterable, ParamValue {
    case ten = "10"
    case e = "e"

    public func log(_ x: Double) -> Double { self == .ten ? Foundation.log10(x) : Foundation.log(x) }
    public var axisLabel: String { self == .ten ? "Log₁₀ [ magnitude ]" : "ln [ magnitude ]" }
}
