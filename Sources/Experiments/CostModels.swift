import Foundation
import NN
import Pipeline
import Tensor

// What each network kind computes, in image-layers (one image through one ResNet layer, forward), for
// `bnrepro estimate`. A training step counts 3 per image and layer (forward, data and weight gradients).
// These are counts from the params, not timings: the estimate calibrates seconds per image-layer on
// this machine's records of the same kind.

private func images(perClass: Int, all: Double) -> Double {
    perClass > 0 ? 10 * Double(perClass) : all
}

extension NetworkParams {
    /// Image-layers of one mini-batch's forward pass.
    var batchImageLayers: Double { Double(depth) * Double(batchSize) }
}

extension TrainStage {
    public func workUnits(_ p: Params) -> Double? {
        let train = images(perClass: p.trainPerClass, all: 50_000), test = images(perClass: p.testPerClass, all: 10_000)
        return Double(p.network.depth) * Double(p.epochs) * (3 * train + Double(p.evaluationsPerEpoch) * test)
    }
}

extension MaxStableLRStage {
    /// The search's trials are not known in advance: every grid rate plus the bisections is the upper
    /// bound, and 60 % of it is what the quick profile's searches used (trials that diverge stop within a
    /// few steps, and a failing seed ends its rate).
    public func workUnits(_ p: Params) -> Double? {
        let widest = zip(p.grid, p.grid.dropFirst()).map { $1 / $0 }.max() ?? 1
        let bisections = widest > p.factor ? ceil(log2(log(widest) / log(p.factor))) : 0
        let trials = Double(p.grid.count) + bisections
        let perTrial = 3 * Double(p.epochs) * images(perClass: p.trainPerClass, all: 5_000) * Double(p.network.depth)
        return 0.6 * trials * Double(p.seeds.count) * perTrial
    }
}

extension RelativeLossStage {
    public func workUnits(_ p: Params) -> Double? {
        p.network.batchImageLayers * Double(p.miniBatches.count) * 2 * Double(p.stepCount + 3)
    }
}

extension DivergingUpdateStage {
    public func workUnits(_ p: Params) -> Double? {
        // A training step is 3 passes; each rate tried repeats the stable steps. The largest-representable
        // rule usually diverges at its first large step and stops after one or two overflowing rates (2 of
        // lrTries); the smallest-diverging rule walks up past rates that run maxSteps without diverging
        // (half of lrGrid).
        let stable = Double(p.stableSteps)
        let smallest = p.rateRule == .smallestDiverging
        let rates = smallest ? max(1, Double(p.lrGrid.count) / 2) : min(2, Double(p.lrTries))
        let large = smallest ? Double(p.maxSteps) : 2
        let steps = 3 * rates * (stable + large) + rates + Double(p.points)
        return p.network.batchImageLayers * steps
    }
}

extension CalibrationStage {
    public func workUnits(_ p: Params) -> Double? {
        let setups = Double(p.preprocessings.count * p.convInitializations.count * p.linearInitializations.count * p.shortcuts.count)
        let refined = min(Double(p.refineRows), setups) * Double(p.refineGains.count)
        // The training term: 7 steps (3 passes each) and, at 2 probed batches, up to 17 forwards, on the rows
        // the bound reaches: 23 of the 63 rows (37 %) at the quick profile on 2026-12-06.
        let rows = p.trainingTerm ? (0.37 * (setups + refined)).rounded(.up) : 0
        let training = rows * (7 * 3 + 2 * 17) * p.network.batchImageLayers
        return (setups + refined) * 2 * 4 * p.network.batchImageLayers * Double(p.batches) + training
    }
}

extension ChannelMomentsStage {
    public func workUnits(_ p: Params) -> Double? {
        2 * p.network.batchImageLayers * Double(p.batches) * Double(p.seeding.seeds)
    }
}

extension GradientHistogramStage {
    public func workUnits(_ p: Params) -> Double? {
        2 * 3 * p.network.batchImageLayers * Double(p.batches) * Double(p.seeding.seeds)
    }
}

extension GradientCoherenceStage {
    public func workUnits(_ p: Params) -> Double? {
        2 * 3 * p.network.batchImageLayers * Double(1 + p.layers.count) * Double(p.seeding.seeds)
    }
}

extension OutputGradientsStage {
    public func workUnits(_ p: Params) -> Double? {
        2 * 3 * p.network.batchImageLayers * Double(p.seeding.seeds)
    }
}

extension JacobianSpectrumStage {
    public func workUnits(_ p: Params) -> Double? {
        Double(p.depths.reduce(0, +)) * Double(p.seeds.count) * Double(p.images) * (1 + 2 * 10)
    }
}

extension FirstStepsStage {
    public func workUnits(_ p: Params) -> Double? {
        Double(p.normalizations.count) * 3 * Double(p.steps) * p.network.batchImageLayers
    }
}
