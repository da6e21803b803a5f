import ArrayFormats
import Foundation
import NN
import Pipeline

/// `init`: the initial weights of the ResNet with and without BN, as safetensors a user can open with
/// numpy/PyTorch (`safetensors.numpy.load_file`). They are the weights every analysis at
/// initialisation builds from the same `depth`, `initialization` and `seed` (the networks are a pure
/// function of these, so the analyses rebuild them rather than read these files; a test checks that
/// the two agree bit for bit).
///
/// pipeline.json sets `initialization` to xavierNormal here and in every analysis at initialisation
/// (why: ChannelMomentsStage).
///
/// Outputs: `resnet{depth}-{bn,nobn}.safetensors`, `init.json` (parameter counts and the per-layer
/// weight std against the scheme's target, a check that the initialisation is what it claims).
public struct InitStage: AnalysisKind, ParameterizedKind {
    public typealias Result = [String: NetworkSummary]
    public static let kindName = "init"
    public let version = 2
    /// The network's params without `batchSize`: nothing here sees a mini-batch.
    public struct Params: StageParams {
        @Param(NetworkParams.depthHelp) public var depth = 110
        @ParamGroup public var setup = SetupParams()
        @Param(NetworkParams.seedHelp) public var seed = 0

        public init() {}

        var network: NetworkParams {
            var network = NetworkParams()
            network.depth = depth; network.setup = setup; network.seed = seed
            return network
        }
    }

    public init() {}

    public struct LayerCheck: Codable, Sendable {
        public let layer: Int
        public let weights: Int
        public let std: Double
        public let targetStd: Double
    }

    public struct NetworkSummary: Codable, Sendable {
        public let file: String
        public let parameters: Int
        public let tensors: Int
        public let layers: [LayerCheck]
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        var summary: [String: NetworkSummary] = [:]
        for (v, variant) in NetworkVariant.both.enumerated() {
            let net = try AnalysisSetup.network(params.network, normalization: variant.normalization)
            let file = "resnet\(net.config.depth)-\(variant.key).safetensors"
            try net.saveCheckpoint(to: context.output(file), metadata: [
                "seed": "\(params.seed)", "initialization": params.setup.initialization.rawValue,
                "stage": context.stage, "description": "bnrepro ResNet-\(net.config.depth) \(variant.title) at initialisation",
            ])
            var checks: [LayerCheck] = []
            for spec in net.config.convLayers {
                guard let w = net.parameter(TensorName(.conv(spec.layer), .weight)) else { continue }
                let target = net.config.initialization.weightStd(fanIn: spec.inChannels * 9, fanOut: spec.outChannels * 9)
                checks.append(LayerCheck(layer: spec.layer, weights: w.count, std: SampleSummary(w.data).std, targetStd: target))
            }
            summary[variant.key] = NetworkSummary(file: file, parameters: net.parameters.count, tensors: net.layout.entries.count,
                                                  layers: checks)
            let worst = checks.map { abs($0.std / $0.targetStd - 1) }.max() ?? 0
            print("\(variant.title): \(file), \(net.parameters.count) parameters in \(net.layout.entries.count) tensors; "
                  + String(format: "conv weight stds within %.1f%% of the target", 100 * worst))
            context.progress("\(variant.title) written", fraction: Double(v + 1) / 2)
        }
        try context.write(summary, of: Self.self, claims: [])
    }
}
