import Foundation
import NN

/// What one SGD step looks like from inside the network: measured on the step's mini-batch before the
/// update (loss, logits, gradients, live ReLUs) and across the update (its size against the weights').
/// The groups are the network's parts as the paper numbers them: the stem (layer 1), the three stages of
/// blocks, and the final linear layer.
public struct StepDiagnostics: Codable, Equatable, Sendable {
    /// 1-based: the mini-batch this step was computed on (Fig. 3's "mini-batch k").
    public var miniBatch: Int
    public var loss: Double
    /// Root mean square of the logits over images and classes.
    public var logitRMS: Double
    /// How much the logits depend on the image: the mean over classes of their std across the batch.
    /// A net whose body has died gives every image the same logits (0 here).
    public var logitSpread: Double
    /// ‖∇L‖₂ over every parameter.
    public var gradientNorm: Double
    /// ‖∇L‖₂ restricted to each group of `StepDiagnostics.groups`.
    public var gradientNormByGroup: [Double]
    /// ‖∇L‖₂ restricted to each kind of `ParameterKind.allCases`.
    public var gradientNormByKind: [Double]
    /// Fraction of positive pre-activations (= units the ReLU passes) per group of `groups` without the final layer.
    public var positiveFraction: [Double]
    /// The same per conv layer 1…depth−1.
    public var positiveFractionByLayer: [Double]
    /// ‖Δθ_l‖ / ‖θ_l‖ per layer 1…depth over the layer's tensors (weights, biases, its shortcut); nil where
    /// the loss had overflowed and no step was taken.
    public var updateRatioByLayer: [Double]?

    /// The groups, in forward order.
    public static let groups = ["stem", "stage 1", "stage 2", "stage 3", "final"]

    /// The group of layer l in a ResNet of `config` (index into `groups`).
    public static func group(layer l: Int, config: ResNetConfig) -> Int {
        if l <= 1 { return 0 }
        if l >= config.linearLayer { return 4 }
        return 1 + (l / 2 - 1) / config.blocksPerStage
    }
}

/// The kinds of parameters whose gradients are told apart.
public enum ParameterKind: String, Codable, CaseIterable, Sendable {
    case convWeights = "conv weights"
    case convBiases = "conv biases"
    case shortcut = "shortcut"
    case batchNorm = "BN γ, β"
    case finalWeights = "final weights"
    case finalBias = "final bias"

    /// The kind of a tensor of the parameter layout (see `ParameterLayout`).
    init(_ tensor: TensorName) {
        switch tensor.owner {
        case .linear: self = tensor.part == .weight ? .finalWeights : .finalBias
        case .shortcut: self = .shortcut
        case .bn, .finalBN, .shortcutBN: self = .batchNorm
        case .conv: self = tensor.part == .weight ? .convWeights : .convBiases
        }
    }
}

extension ParameterEntry {
    /// The layer a tensor belongs to: `layer{l}.…` → l; the final BN of `lastLayerOnly` → the linear layer.
    func layer(linearLayer: Int) -> Int {
        guard name.hasPrefix("layer"), let dot = name.firstIndex(of: ".") else { return linearLayer }
        return Int(name[name.index(name.startIndex, offsetBy: 5)..<dot]) ?? linearLayer
    }
}

/// Measures `StepDiagnostics` around one step; the caller runs forward, then `measureBeforeStep`, the
/// step, then `measureUpdate`.
struct StepProbe {
    let model: ResNet

    /// Loss, logits and live units of the last forward, gradients of the last backward.
    func measureBeforeStep(miniBatch: Int, loss: Double) throws -> StepDiagnostics {
        let config = model.config, layout = model.layout
        let logits = try model.logits(), K = config.classes, B = logits.shape[0]
        let z = logits.data.map(Double.init)
        let rms = (z.reduce(0) { $0 + $1 * $1 } / Double(max(z.count, 1))).squareRoot()
        var spread = 0.0
        for k in 0..<K {
            let column = (0..<B).map { z[$0 * K + k] }
            let mean = column.reduce(0, +) / Double(B)
            spread += (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(B)).squareRoot()
        }
        let g = model.gradients.array
        var byGroup = [Double](repeating: 0, count: StepDiagnostics.groups.count)
        var byKind = [Double](repeating: 0, count: ParameterKind.allCases.count)
        for entry in layout.entries {
            let sq = g[entry.range].reduce(0.0) { $0 + Double($1) * Double($1) }
            byGroup[StepDiagnostics.group(layer: entry.layer(linearLayer: config.linearLayer), config: config)] += sq
            let kind = ParameterKind(entry.tensor)
            byKind[ParameterKind.allCases.firstIndex(of: kind) ?? 0] += sq
        }
        var positiveByLayer: [Double] = [], positive = [Double](repeating: 0, count: 4), units = positive
        for l in 1..<config.linearLayer {
            let post = try model.activation(layer: l, at: .postActivation).data
            let count = Double(post.lazy.filter { $0 > 0 }.count)
            positiveByLayer.append(count / Double(max(post.count, 1)))
            let group = StepDiagnostics.group(layer: l, config: config)
            positive[group] += count
            units[group] += Double(post.count)
        }
        return StepDiagnostics(miniBatch: miniBatch, loss: loss, logitRMS: rms, logitSpread: spread / Double(K),
                               gradientNorm: byGroup.reduce(0, +).squareRoot(), gradientNormByGroup: byGroup.map { $0.squareRoot() },
                               gradientNormByKind: byKind.map { $0.squareRoot() },
                               positiveFraction: zip(positive, units).map { $0 / max($1, 1) },
                               positiveFractionByLayer: positiveByLayer, updateRatioByLayer: nil)
    }

    /// ‖θ_after,l − θ_before,l‖ / ‖θ_before,l‖ per layer 1…depth.
    func updateRatios(before: [Float], after: [Float]) -> [Double] {
        let config = model.config
        var change = [Double](repeating: 0, count: config.depth), size = change
        for entry in model.layout.entries {
            let i = entry.layer(linearLayer: config.linearLayer) - 1
            for j in entry.range {
                let d = Double(after[j]) - Double(before[j])
                change[i] += d * d
                size[i] += Double(before[j]) * Double(before[j])
            }
        }
        return zip(change, size).map { ($0 / max($1, .leastNormalMagnitude)).squareRoot() }
    }
}
