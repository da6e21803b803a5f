import Datasets
import NN
import Pipeline

/// One network of one seed in an analysis at initialisation measured over seeds (issue 22): each seed
/// draws fresh weights and fresh mini-batches, and the figure draws the first seed.
public struct SeedRun {
    public let seed: Int
    /// The first seed: the one whose arrays the stage writes for its figure.
    public let isFirst: Bool
    public let variant: NetworkVariant
    /// That seed's first mini-batches of the first epoch.
    public let batches: [ImageBatch]
}

/// For the analyses at initialisation whose claims are decided over seeds.
public struct SeedsParams: StageParams {
    @Param("seeds measured for the claims (seed, seed + 1, …); the figure draws the first") public var seeds = 5

    public init() {}
}

extension AnalysisSetup {
    /// `body` for every seed the `seeds` parameter asks for (`seed`, `seed` + 1, …) and both networks, each
    /// freshly initialised from that seed, on that seed's first `count` mini-batches. The results per seed,
    /// in seed order, keyed by network.
    public static func overSeeds<T>(_ context: StageContext, _ network: NetworkParams, seeds: Int, batches count: Int,
                                    loaded: LoadedData, _ body: (SeedRun, ResNet) throws -> T) throws -> [[String: T]] {
        let first = network.seed
        guard seeds >= 1 else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "seeds", problem: "needs at least 1, got \(seeds)")
        }
        var all: [[String: T]] = []
        for (n, seed) in (first..<(first + seeds)).enumerated() {
            let batches = try firstBatches(context, network, count: count, loaded: loaded, seed: seed)
            var bySeed: [String: T] = [:]
            for (v, variant) in NetworkVariant.both.enumerated() {
                let net = try AnalysisSetup.network(network, normalization: variant.normalization, seed: seed)
                bySeed[variant.key] = try body(SeedRun(seed: seed, isFirst: n == 0, variant: variant, batches: batches), net)
                context.progress("seed \(seed), \(variant.title)", fraction: Double(2 * n + v + 1) / Double(2 * seeds))
            }
            all.append(bySeed)
        }
        return all
    }
}
