import Foundation
import NN
import Pipeline
import Tensor

// What each network kind computes, in image-layers (one image through one ResNet layer, forward), for
// `bnrepro estimate`. A training step counts 3 per image and layer (forward, data and weight gradients).
// These are counts from the params, not timings: the estimate calibrates seconds per image-layer on
// this machine's records of the same kind.

private func value(_ params: JSONObject, _ name: String, _ fallback: Double) -> Double { params[name]?.doubleValue ?? fallback }
private func count(_ params: JSONObject, _ name: String, _ fallback: Int) -> Double {
    Double(params[name]?.arrayValue?.count ?? fallback)
}
private func images(_ params: JSONObject, perClass name: String, all: Double) -> Double {
    let perClass = value(params, name, 0)
    return perClass > 0 ? 10 * perClass : all
}

extension TrainStage {
    public func workUnits(params: JSONObject) -> Double? {
        let depth = value(params, "depth", 110), epochs = value(params, "epochs", 165)
        let train = images(params, perClass: "trainPerClass", all: 50_000), test = images(params, perClass: "testPerClass", all: 10_000)
        return depth * epochs * (3 * train + value(params, "evaluationsPerEpoch", 1) * test)
    }
}

extension MaxStableLRStage {
    /// The search's trials are not known in advance: every grid rate plus the bisections is the upper
    /// bound, and 60 % of it is what the quick profile's searches used (trials that diverge stop within a
    /// few steps, and a failing seed ends its rate).
    public func workUnits(params: JSONObject) -> Double? {
        let grid = params["grid"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        let factor = value(params, "factor", 1.25)
        let widest = zip(grid, grid.dropFirst()).map { $1 / $0 }.max() ?? 1
        let bisections = widest > factor ? ceil(log2(log(widest) / log(factor))) : 0
        let trials = Double(grid.count) + bisections
        let perTrial = 3 * value(params, "epochs", 3) * images(params, perClass: "trainPerClass", all: 5_000) * value(params, "depth", 110)
        return 0.6 * trials * count(params, "seeds", 2) * perTrial
    }
}

extension RelativeLossStage {
    public func workUnits(params: JSONObject) -> Double? {
        value(params, "depth", 110) * value(params, "batchSize", 128) * count(params, "miniBatches", 3) * 2 * (value(params, "stepCount", 36) + 3)
    }
}

extension DivergingUpdateStage {
    public func workUnits(params: JSONObject) -> Double? {
        // A training step is 3 passes; each rate tried repeats the stable steps. The largest-representable
        // rule usually diverges at its first large step and stops after one or two overflowing rates (2 of
        // lrTries); the smallest-diverging rule walks up past rates that run maxSteps without diverging
        // (half of lrGrid).
        let stable = value(params, "stableSteps", 0)
        let smallest = params["rateRule"]?.stringValue == "smallestDiverging"
        let rates = smallest ? max(1, count(params, "lrGrid", 7) / 2) : min(2, value(params, "lrTries", 4))
        let large = smallest ? value(params, "maxSteps", 200) : 2
        let steps = 3 * rates * (stable + large) + rates + value(params, "points", 101)
        return value(params, "depth", 110) * value(params, "batchSize", 128) * steps
    }
}

extension CalibrationStage {
    public func workUnits(params: JSONObject) -> Double? {
        let setups = count(params, "preprocessings", 2) * count(params, "convInitializations", 3) * count(params, "linearInitializations", 3)
            * count(params, "shortcuts", 3)
        let refined = min(value(params, "refineRows", 3), setups) * count(params, "refineGains", 3)
        let perImageLayer = value(params, "depth", 110) * value(params, "batchSize", 128)
        // The training term: 7 steps (3 passes each) and, at 2 probed batches, up to 17 forwards, on the rows
        // the bound reaches: 23 of the 63 rows (37 %) at the quick profile on 2026-12-06.
        let rows = (params["trainingTerm"]?.boolValue ?? true) ? (0.37 * (setups + refined)).rounded(.up) : 0
        let training = rows * (7 * 3 + 2 * 17) * perImageLayer
        return (setups + refined) * 2 * 4 * perImageLayer * value(params, "batches", 1) + training
    }
}

extension ChannelMomentsStage {
    public func workUnits(params: JSONObject) -> Double? {
        2 * value(params, "depth", 110) * value(params, "batchSize", 128) * value(params, "batches", 1) * value(params, "seeds", 5)
    }
}

extension GradientHistogramStage {
    public func workUnits(params: JSONObject) -> Double? {
        2 * 3 * value(params, "depth", 110) * value(params, "batchSize", 128) * value(params, "batches", 5) * value(params, "seeds", 5)
    }
}

extension GradientCoherenceStage {
    public func workUnits(params: JSONObject) -> Double? {
        2 * 3 * value(params, "depth", 110) * value(params, "batchSize", 128) * (1 + count(params, "layers", 3)) * value(params, "seeds", 5)
    }
}

extension OutputGradientsStage {
    public func workUnits(params: JSONObject) -> Double? {
        2 * 3 * value(params, "depth", 110) * value(params, "batchSize", 128) * value(params, "seeds", 5)
    }
}

extension JacobianSpectrumStage {
    public func workUnits(params: JSONObject) -> Double? {
        let depths = params["depths"]?.arrayValue?.compactMap(\.doubleValue).reduce(0, +) ?? 226
        return depths * count(params, "seeds", 3) * value(params, "images", 32) * (1 + 2 * 10)
    }
}

extension FirstStepsStage {
    public func workUnits(params: JSONObject) -> Double? {
        count(params, "normalizations", 2) * 3 * value(params, "steps", 8) * value(params, "depth", 110) * value(params, "batchSize", 128)
    }
}
