import Tensor

/// What a training step needs of a mini-batch: float32 NCHW images [B, 3, H, W] and labels in
/// 0..<classes. The data set's batch type conforms (in Experiments), so batches reach the model as they
/// are made, without a second batch type to copy into.
public protocol MiniBatch {
    var images: [Float] { get }
    var labels: [Int32] { get }
}

public enum TrainingOutcome: Equatable, Sendable {
    case completed(steps: Int, lastLoss: Double)
    /// The mini-batch loss at `step` (0-based) exceeded the threshold or was not finite; that step's update
    /// was not applied.
    case diverged(step: Int, loss: Double)
}

public struct Evaluation: Equatable, Sendable {
    public var accuracy: Double
    public var meanLoss: Double
    public var count: Int
}

/// Drives a model with SGD: the training-step API an experiment feeds with batches it gets elsewhere.
public struct Trainer {
    public let model: ResNet
    public var sgd: SGD
    public var schedule: LearningRateSchedule
    /// Divergence: a mini-batch loss above this (paper: 10³) or a non-finite one.
    public var divergenceThreshold: Double = 1e3
    public private(set) var step = 0

    public init(model: ResNet, schedule: LearningRateSchedule, momentum: Float = 0.9, weightDecay: Float = 1e-4) {
        self.model = model
        self.schedule = schedule
        sgd = SGD(parameterCount: model.parameters.count, momentum: momentum, weightDecay: weightDecay)
    }

    /// A trainer resumed at `step` with the optimiser state it had there (a killed run picks up here).
    public init(model: ResNet, schedule: LearningRateSchedule, sgd: SGD, step: Int) {
        self.model = model
        self.schedule = schedule
        self.sgd = sgd
        self.step = step
    }

    /// The rate the schedule gives the next step.
    public func rate(totalSteps: Int) -> Float { schedule.rate(step: step, totalSteps: totalSteps) }

    public func isDivergent(_ loss: Double) -> Bool { !loss.isFinite || loss > divergenceThreshold }

    /// Forward (training mode, running statistics updated), backward and one SGD step at the schedule's
    /// rate for this step. Returns the batch loss before the update; a divergent loss skips the update.
    /// `afterForward(loss)` runs while the forward pass's logits are still in the model (for accuracy
    /// as SGD saw it), before a divergent loss returns.
    @discardableResult
    public mutating func trainStep(_ batch: some MiniBatch, totalSteps: Int, afterForward: (Double) throws -> Void = { _ in }) throws -> Double {
        let loss = try model.forward(images: batch.images, labels: batch.labels, mode: .training, updateRunningStats: true)
        if isDivergent(loss) { return loss }
        try afterForward(loss)
        try model.backward()
        sgd.step(model.parameters, model.gradients, learningRate: schedule.rate(step: step, totalSteps: totalSteps))
        step += 1
        return loss
    }

    /// One step at `learningRate` instead of the schedule's, applied whatever the loss: for studies of
    /// the step that diverges (Fig. 4), which must take it. Returns the batch loss before the update.
    @discardableResult
    public mutating func forcedStep(_ batch: some MiniBatch, learningRate: Float) throws -> Double {
        let loss = try model.forward(images: batch.images, labels: batch.labels, mode: .training, updateRunningStats: true)
        try model.backward()
        sgd.step(model.parameters, model.gradients, learningRate: learningRate)
        step += 1
        return loss
    }

    /// Runs `totalSteps` steps on the batches `next(step)` returns, stopping at the first divergent loss.
    /// `onStep(step, loss)` sees every step's loss (for logs and per-epoch metrics).
    public mutating func train<B: MiniBatch>(totalSteps: Int, next: (Int) throws -> B,
                               onStep: (Int, Double) throws -> Void = { _, _ in }) throws -> TrainingOutcome {
        var last = Double.nan
        while step < totalSteps {
            let s = step
            let loss = try trainStep(try next(s), totalSteps: totalSteps)
            if isDivergent(loss) { return .diverged(step: s, loss: loss) }
            try onStep(s, loss)
            last = loss
        }
        return .completed(steps: step, lastLoss: last)
    }
}

extension ResNet {
    /// θ ← θ − size · ∇L (the gradient of the last backward): a plain gradient step of any size.
    public func plainGradientStep(size: Float) {
        let p = parameters.pointer, g = gradients.pointer
        for i in 0..<parameters.count { p[i] -= size * g[i] }
    }

    /// Accuracy and mean loss on a data set in batches (inference-mode BN). The last partial batch is
    /// padded to `batchSize` with copies of its first image, so no second arena is built; padded rows
    /// are not counted.
    public func evaluate(images: [Float], labels: [Int32], batchSize: Int = 128) throws -> Evaluation {
        let per = 3 * config.imageSize * config.imageSize, n = labels.count
        guard images.count == n * per else {
            throw ResNetError.badBatch("\(images.count) floats for \(n) labels; expected \(n) × \(per)")
        }
        var correct = 0, lossSum = 0.0, start = 0
        while start < n {
            let real = min(batchSize, n - start)
            var x = Array(images[(start * per)..<((start + real) * per)])
            var y = Array(labels[start..<(start + real)])
            if real < batchSize {
                for _ in real..<batchSize { x.append(contentsOf: images[(start * per)..<((start + 1) * per)]); y.append(labels[start]) }
            }
            try inferenceForward(images: x, labels: y)
            let losses = try perSampleLosses()
            for b in 0..<real { lossSum += Double(losses[b]) }
            correct += try correctPredictions(labels: Array(y[0..<real]))
            start += real
        }
        return Evaluation(accuracy: Double(correct) / Double(max(n, 1)), meanLoss: lossSum / Double(max(n, 1)), count: n)
    }

    /// Rows of the last forward's logits whose argmax is the label; `labels` may cover the first rows only.
    public func correctPredictions(labels: [Int32]) throws -> Int {
        let z = try logits(), k = config.classes
        var correct = 0
        for (b, label) in labels.enumerated() {
            var best = 0
            for j in 1..<k where z.data[b * k + j] > z.data[b * k + best] { best = j }
            if best == Int(label) { correct += 1 }
        }
        return correct
    }

    public func evaluate(images: [Float], labels: [UInt8], batchSize: Int = 128) throws -> Evaluation {
        try evaluate(images: images, labels: labels.map { Int32($0) }, batchSize: batchSize)
    }
}
