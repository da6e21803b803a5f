import Foundation
import NN
import Pipeline
import Statistics
import Tensor

/// `jacobian-spectrum` (Appendix K's bridge from random matrices to networks): the largest singular
/// value of the unnormalised ResNet's Jacobian at initialisation, for several depths. Section 5's
/// argument says a deeper net is a longer product of random matrices, so this should grow with depth.
///
/// J_b = ∂logits_b / ∂z_b for image b, z the first conv's output (16×32×32): the map through every
/// residual block and the head, which is where depth lives (the first conv is the same 3→16 map at
/// every depth). The network has only 10 logits, so J_b has 10 rows and is computed exactly: one
/// backward pass per class, seeded with that class's one-hot logit gradient, gives row c for every image
/// of the batch at once (without BN the images do not interact). Its singular values come from an SVD
/// in float64. This is exact where a power iteration would only approach σ_max.
///
/// Outputs: `jacobian-spectrum.json` (per depth and seed, σ_max of each image's Jacobian; quartiles
/// per depth), `claims.json`.
public struct JacobianSpectrumStage: AnalysisKind, ParameterizedKind {
    public static let kindName = "jacobian-spectrum"
    public let version = 1
    /// The network's params with `depths` for `depth` and `seeds` for the weights (`seed` orders the images).
    public struct Params: StageParams {
        @ParamGroup public var setup = SetupParams()
        @Param(NetworkParams.seedHelp) public var seed = 0
        @Param("mini-batch size (128 in the paper)") public var batchSize = 128
        @Param("ResNet depths 6n+2") public var depths = [8, 20, 32, 56, 110]
        @Param("seeds of the initial weights (`seed` orders the images)") public var seeds = [0, 1, 2]
        @Param("images of the first mini-batch whose Jacobians are taken") public var images = 32

        public init() {}

        /// The images' network params (the depth is the loop's).
        var network: NetworkParams {
            var network = NetworkParams()
            network.setup = setup; network.seed = seed; network.batchSize = batchSize
            return network
        }
    }

    public init() {}

    public struct Row: Codable, Sendable {
        public let depth: Int
        /// σ_max of J_b, indexed [seed][image].
        public let largest: [[Double]]
        public let quartiles: Quartiles
    }

    public struct Result: Codable, Sendable {
        public let images: Int
        public let seeds: [Int]
        public let rows: [Row]
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let depths = params.depths.sorted(), seeds = params.seeds, count = params.images
        guard !depths.isEmpty, !seeds.isEmpty else {
            throw PipelineError.badParameter(stage: context.stage, parameter: depths.isEmpty ? "depths" : "seeds", problem: "needs a value")
        }
        guard count >= 1, count <= params.batchSize else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "images", problem: "must be 1…batchSize")
        }
        guard let batch = try AnalysisSetup.firstBatches(context, params.network, count: 1).first else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "batchSize", problem: "no mini-batch to take images from")
        }
        let per = batch.images.count / batch.count
        let images = Array(batch.images[0..<(count * per)]), labels = Array(batch.labels[0..<count])
        let setup = params.setup.networkSetup
        var rows: [Row] = [], done = 0
        for depth in depths {
            var largest: [[Double]] = []
            for seed in seeds {
                let config: ResNetConfig
                do { config = try setup.config(depth: depth, normalization: .none) } catch {
                    throw PipelineError.badParameter(stage: context.stage, parameter: "depths", problem: "\(error)")
                }
                let model = try ResNet(config: config, seed: UInt64(seed))
                largest.append(try Self.largestSingularValues(model, images: images, labels: labels))
                done += 1
                context.progress("ResNet-\(depth), seed \(seed)", fraction: Double(done) / Double(depths.count * seeds.count))
            }
            let all = largest.flatMap { $0 }
            try AnalysisIO.requireFinite(all, "Jacobian singular values at depth \(depth)", in: context)
            let row = Row(depth: depth, largest: largest, quartiles: Quartiles(all))
            rows.append(row)
            print(String(format: "ResNet-%d: σ_max of ∂logits/∂(first conv output): median %.4g (quartiles %.4g–%.4g) over %d images × %d seeds",
                         depth, row.quartiles.median, row.quartiles.lower, row.quartiles.upper, count, seeds.count))
        }
        let result = Result(images: count, seeds: seeds, rows: rows)
        try context.write(result, of: Self.self, claims: Self.claims(result))
    }

    /// σ_max of every image's 10×(16·32·32) Jacobian: one seeded backward pass per class.
    static func largestSingularValues(_ model: ResNet, images: [Float], labels: [Int32]) throws -> [Double] {
        let classes = model.config.classes, b = labels.count
        try model.forward(images: images, labels: labels)
        var rows: [Tensor] = []
        for c in 0..<classes {
            var seed = [Float](repeating: 0, count: b * classes)
            for i in 0..<b { seed[i * classes + c] = 1 }
            guard let g = try model.backward(logitGradients: seed, captureOutputGradients: [1])[1] else {
                throw ResNetError.notCaptured("the first conv's output gradient")
            }
            rows.append(g)
        }
        let width = rows[0].data.count / b
        return try (0..<b).map { i in
            var jacobian = [Double](repeating: 0, count: classes * width)
            for c in 0..<classes {
                for j in 0..<width { jacobian[c * width + j] = Double(rows[c].data[i * width + j]) }
            }
            return try singularValues(jacobian, rows: classes, cols: width)[0]
        }
    }

    /// Section 5's prediction carried to networks (issue 15): the Jacobian's top singular value grows with depth.
    static func claims(_ r: Result) -> [Claim] {
        let medians = r.rows.map(\.quartiles.median)
        let grows = zip(medians, medians.dropFirst()).allSatisfy { $0 < $1 }
        return [Claim(id: "appk.jacobian-grows", figure: "App. K",
                      statement: "without BN, the top singular value of the network's Jacobian at initialisation grows with depth (median)",
                      paper: "grows with depth", source: "paper-notes §5 [RECALL], issue 15",
                      ours: zip(r.rows, medians).map { String(format: "ResNet-%d: %.3g", $0.depth, $1) }.joined(separator: ", "),
                      test: "strictly increasing in depth", verdict: Claim.verdict(grows))]
    }
}
