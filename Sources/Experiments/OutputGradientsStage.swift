import Foundation
import NN
import Pipeline

/// `output-gradients` (Fig. 6): ∂L/∂logits for one mini-batch at initialisation, with and without BN,
/// L the batch-mean cross-entropy, so a row is (softmax − onehot)/B and sums to zero.
///
/// Decision: the paper writes ∂L_b/∂O_{b,j} with L_b the loss of image b, but its colour bar spans about
/// ±1/128, which is the gradient of the batch *mean* loss; we plot that (B times smaller than ∂L_b).
///
/// Outputs: `logit-gradients-{bn,nobn}.npy` (float32 [B, classes]), `labels.npy` (int32 [B]),
/// `summary.json` (per network: loss, predicted-class histogram, the consistency checks below),
/// `metrics.json` (the same numbers, flat).
public struct OutputGradientsStage: AnalysisKind, ParameterizedKind {
    public static let kindName = "output-gradients"
    public static let labelsNPY = "labels.npy"
    public static func logitGradients(_ variant: NetworkVariant) -> String { "logit-gradients-\(variant.key).npy" }
    /// 4: the mean perplexity and the claim that reads it. 5: every claim decided over `seeds`.
    /// 6: `networks` is the first of `perSeed`, not stored twice.
    public let version = 6
    static let batchHelp = "which mini-batch of the first epoch (0-based)"

    public struct Params: StageParams {
        @ParamGroup public var network = NetworkParams()
        @Param(batchHelp) public var batch = 0
        @ParamGroup public var seeding = SeedsParams()

        public init() {}
    }

    public init() {}

    public struct NetworkSummary: Codable, Sendable {
        public let loss: Double
        /// How many images the network predicts as each class (argmax of the logits).
        public let predictedPerClass: [Int]
        /// The most predicted class and its share of the batch ("almost always the same class").
        public let modalClass: Int
        public let modalShare: Double
        public let accuracy: Double
        /// Mean over the batch of the largest softmax probability: 1 when the net is sure of one class.
        public let meanMaxProbability: Double
        /// Mean over the batch of exp(softmax entropy): the classes an image's probability is spread over.
        public let meanPerplexity: Double
        /// max |logit|: the output scale ("up to about 10²").
        public let maxAbsLogit: Double
        public let minGradient: Double
        public let maxGradient: Double
        /// max_b |Σ_j ∂L/∂z_bj|: zero up to rounding because softmax rows sum to one.
        public let maxAbsRowSum: Double
        /// max |engine gradient − (softmax(z) − onehot)/B| recomputed here from the logits in Float64.
        public let maxDeviationFromSoftmaxFormula: Double
    }

    public struct Result: Codable, Sendable {
        public let depth: Int
        public let batch: Int
        public let batchSize: Int
        public let classes: Int
        public let classNames: [String]
        /// Every seed's summaries, in seed order: the claims read these.
        public let perSeed: [[String: NetworkSummary]]
        /// The figure's seed (the first).
        public var networks: [String: NetworkSummary] { perSeed.first ?? [:] }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let index = params.batch
        guard index >= 0 else { throw PipelineError.badParameter(stage: context.stage, parameter: "batch", problem: "must be 0 or more") }
        let loaded = try AnalysisSetup.data(context)
        var labels: [Int32] = [], classes = 0
        let perSeed = try AnalysisSetup.overSeeds(context, params.network, seeds: params.seeding.seeds, batches: index + 1, loaded: loaded) { run, net -> NetworkSummary in
            guard let batch = run.batches.last else {
                throw PipelineError.badParameter(stage: context.stage, parameter: "batch", problem: "no mini-batch \(index)")
            }
            let loss = try net.forward(images: batch.images, labels: batch.labels)
            let grads = try net.logitGradients(), logits = try net.logits()
            classes = net.config.classes
            try AnalysisIO.requireFinite(grads.data, "∂L/∂logits (\(run.variant.title), seed \(run.seed))", in: context)
            if run.isFirst {
                try AnalysisIO.writeNPY(grads.data, shape: grads.shape, to: context.output(Self.logitGradients(run.variant)))
                labels = batch.labels
            }
            let s = Self.summarize(logits: logits.data.map(Double.init), gradients: grads.data.map(Double.init),
                                   labels: batch.labels.map(Int.init), classes: classes, loss: loss)
            print(String(format: "seed %d, %@: loss %.3f, predicts class %d for %.0f%% of the batch, accuracy %.1f%%, exp(H) %.2f, "
                         + "gradients in [%.5f, %.5f], max |row sum| %.2g, max deviation from (softmax − onehot)/B %.2g",
                         run.seed, run.variant.title, loss, s.modalClass, 100 * s.modalShare, 100 * s.accuracy, s.meanPerplexity,
                         s.minGradient, s.maxGradient, s.maxAbsRowSum, s.maxDeviationFromSoftmaxFormula))
            return s
        }
        try AnalysisIO.writeNPY(labels, shape: [labels.count], to: context.output(Self.labelsNPY))
        let result = Result(depth: params.network.depth, batch: index, batchSize: labels.count, classes: classes,
                            classNames: loaded.data.classNames, perSeed: perSeed)
        try context.write(result, of: Self.self, claims: Self.claims(result))
    }

    /// Prediction counts and the two checks of a [B, K] gradient against its logits and labels.
    static func summarize(logits z: [Double], gradients g: [Double], labels: [Int], classes K: Int, loss: Double) -> NetworkSummary {
        let B = labels.count
        var predictions = PredictionSummary(classes: K)
        predictions.add(logits: z)
        var correct = 0, maxRow = 0.0, maxDev = 0.0
        for b in 0..<B {
            let row = z[(b * K)..<((b + 1) * K)]
            let top = row.max() ?? 0
            if row.firstIndex(of: top).map({ $0 - b * K }) == labels[b] { correct += 1 }
            let exps = row.map { exp($0 - top) }, total = exps.reduce(0, +)
            var sum = 0.0
            for j in 0..<K {
                let expected = (exps[j] / total - (j == labels[b] ? 1 : 0)) / Double(B)
                maxDev = max(maxDev, abs(g[b * K + j] - expected))
                sum += g[b * K + j]
            }
            maxRow = max(maxRow, abs(sum))
        }
        return NetworkSummary(loss: loss, predictedPerClass: predictions.predictedPerClass, modalClass: predictions.modalClass,
                              modalShare: predictions.modalShare, accuracy: Double(correct) / Double(max(B, 1)),
                              meanMaxProbability: predictions.meanMaxProbability, meanPerplexity: predictions.meanPerplexity, maxAbsLogit: predictions.maxAbsLogit,
                              minGradient: g.min() ?? 0, maxGradient: g.max() ?? 0, maxAbsRowSum: maxRow,
                              maxDeviationFromSoftmaxFormula: maxDev)
    }

    /// Fig. 6's claims (paper-notes §4, Fig. 6): without BN the net gives nearly every image to one
    /// class with certainty (a solid column); with BN its predictions are spread. Each is decided on the
    /// mean over seeds ± 2 SE (`SeedSample`); one seed decides on its point.
    static func claims(_ r: Result) -> [Claim] {
        func sample(_ key: String, _ value: (NetworkSummary) -> Double) -> SeedSample {
            SeedSample(r.perSeed.map { $0[key].map(value) ?? .nan })
        }
        let source = "paper-notes §4 Fig. 6 [IMG]"
        let pNoBN = sample("nobn", \.meanMaxProbability), share = sample("nobn", \.modalShare), pBN = sample("bn", \.meanMaxProbability)
        let spreadBN = sample("bn", \.meanPerplexity), spreadNoBN = sample("nobn", \.meanPerplexity)
        let noBN = r.networks["nobn"], bn = r.networks["bn"]
        return [
            Claim(id: "fig6.nobn-certain", figure: "Fig. 6", statement: "without BN the net is certain of its prediction at initialisation (mean largest softmax probability)",
                  paper: "≈ 1 (solid column at +1/128)", source: source, ours: pNoBN.text(), test: "mean − 2 SE ≥ 0.95 over seeds",
                  verdict: pNoBN.atLeast(0.95), note: noBN.map { String(format: "first seed: loss %.3g, max |logit| %.3g", $0.loss, $0.maxAbsLogit) }),
            Claim(id: "fig6.nobn-one-class", figure: "Fig. 6", statement: "without BN almost every image is given the same class (the modal class's share)",
                  paper: "≈ 100 % of rows", source: source, ours: share.text("%.2f") + " (first seed: class \(noBN?.modalClass ?? -1))",
                  test: "mean − 2 SE ≥ 0.9 over seeds", verdict: share.atLeast(0.9)),
            Claim(id: "fig6.bn-spread", figure: "Fig. 6", statement: "with BN the predictions are spread (mean largest softmax probability)",
                  paper: "≈ 0.5 (brightest column ≈ +0.004 = p/128)", source: source, ours: pBN.text(),
                  test: "mean + 2 SE ≤ 0.7 over seeds", verdict: pBN.atMost(0.7),
                  note: bn.map { String(format: "first seed: loss %.3g, max |logit| %.3g", $0.loss, $0.maxAbsLogit) }),
            // p̄ ≤ 0.7 also passes a net that splits every image between the same two classes. The paper's BN
            // rows put p ≈ 0.5 on their top class and spread the rest ("positive gradients are spread across
            // classes"): evenly over the other 9, exp(H) ≈ 6. The bar is half that; without BN exp(H) ≈ 1.
            Claim(id: "fig6.bn-spread-classes", figure: "Fig. 6",
                  statement: "with BN each image's probability is spread over several classes (mean over images of exp(softmax entropy))",
                  paper: "≈ 6 (p ≈ 0.5 on the top class, the rest spread over the other 9)", source: source,
                  ours: spreadBN.text("%.2f") + "; w/o BN " + spreadNoBN.text("%.2f"),
                  test: "mean − 2 SE ≥ 3 over seeds", verdict: spreadBN.atLeast(3)),
        ]
    }
}
