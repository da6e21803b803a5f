import Datasets
import Foundation
import NN
import Pipeline

/// One training run as it steps: the trainer, what it has recorded so far, and the training tallies
/// since the last evaluation. It starts from initialisation, or from the resume point a stopped attempt
/// saved, and saves one itself every `checkpointMinutes` and on SIGTERM.
struct TrainLoop {
    let run: TrainRun
    private let context: StageContext
    private(set) var trainer: Trainer
    private(set) var evaluations: [TrainEvaluation] = []
    private(set) var stepLosses: [Float] = []
    private(set) var diverged: (step: Int, loss: Double)?
    private var tallies = TrainResumeState.PendingTallies(seen: 0, correct: 0, lossSum: 0)
    /// Training time spent by earlier attempts of this stage.
    private var previousSeconds = 0.0
    private let started = Date()
    private var lastSave = Date()
    private let checkpointSeconds: Double

    init(_ run: TrainRun, _ context: StageContext, _ params: TrainStage.Params) throws {
        self.run = run
        self.context = context
        checkpointSeconds = 60 * params.checkpointMinutes
        if let resumed = TrainResumeState.load(key: context.key, from: context.partialsDirectory) {
            trainer = Trainer(model: resumed.model, schedule: run.schedule,
                              sgd: SGD(momentum: run.momentum, weightDecay: run.weightDecay, velocity: resumed.velocity),
                              step: resumed.state.step)
            evaluations = resumed.state.evaluations; stepLosses = resumed.state.stepLosses
            previousSeconds = resumed.state.seconds
            if let pending = resumed.state.pending { tallies = pending }
            print("resuming from step \(trainer.step) of \(run.totalSteps) (\(evaluations.count) evaluations done)")
        } else {
            let model = try AnalysisSetup.network(params.network, normalization: run.normalization)
            trainer = Trainer(model: model, schedule: run.schedule, momentum: run.momentum, weightDecay: run.weightDecay)
        }
        trainer.divergenceThreshold = run.threshold
    }

    var model: ResNet { trainer.model }
    /// Training time across every attempt of this stage.
    var seconds: Double { previousSeconds + Date().timeIntervalSince(started) }

    /// Trains to the last step, or until the loss diverges.
    mutating func train() throws {
        try GracefulStop.whileCheckpointable {
            while trainer.step < run.totalSteps && diverged == nil { try trainEpoch() }
        }
    }

    /// The current epoch from the current step on (all of it, unless resumed inside it).
    private mutating func trainEpoch() throws {
        let epoch = trainer.step / run.stepsPerEpoch, skip = trainer.step % run.stepsPerEpoch
        let batches = BatchPrefetcher(run.assembler, epoch: epoch)
        defer { batches.cancel() }
        var index = 0
        while let batch = batches.next() {
            index += 1
            if index <= skip { continue }  // resumed inside this epoch
            try step(batch)
            if diverged != nil || trainer.step >= run.totalSteps { return }
            try saveIfDueOrStopping()
        }
    }

    private mutating func step(_ batch: ImageBatch) throws {
        let lr = trainer.rate(totalSteps: run.totalSteps), step = trainer.step, model = trainer.model
        var tallies = self.tallies  // the trainer is being mutated while the closure counts
        let loss = try trainer.trainStep(batch, totalSteps: run.totalSteps) { loss in
            tallies.correct += try model.correctPredictions(labels: batch.labels)
            tallies.seen += batch.count
            tallies.lossSum += loss * Double(batch.count)
        }
        self.tallies = tallies
        if trainer.isDivergent(loss) {
            diverged = (step, loss)
            return
        }
        stepLosses.append(Float(loss))
        if run.evaluationSteps.contains(trainer.step) { try evaluate(learningRate: lr) }
    }

    private mutating func evaluate(learningRate: Float) throws {
        let e = try run.evaluation(trainer.model, step: trainer.step, learningRate: learningRate, tallies: tallies)
        evaluations.append(e)
        tallies = .init(seen: 0, correct: 0, lossSum: 0)
        try save(pending: nil)
        context.progress(String(format: "epoch %.2f/%d: loss %.3f, train %.1f%%, test %.1f%%", e.epoch, run.epochs,
                                e.trainLoss, 100 * e.trainAccuracy, 100 * e.testAccuracy),
                         fraction: Double(trainer.step) / Double(run.totalSteps))
    }

    /// Between evaluations: a resume point every checkpointMinutes, and one on SIGTERM (a time limit,
    /// scancel, Ctrl-C), so that a long epoch is not lost.
    private mutating func saveIfDueOrStopping() throws {
        let stopping = GracefulStop.isRequested
        guard stopping || (checkpointSeconds > 0 && Date().timeIntervalSince(lastSave) >= checkpointSeconds) else { return }
        if !run.evaluationSteps.contains(trainer.step) { try save(pending: tallies) }
        if stopping {
            print("SIGTERM: saved a resume point at step \(trainer.step) of \(run.totalSteps)")
            GracefulStop.terminate()
            throw GracefulStop.Stopped(step: trainer.step)
        }
    }

    private mutating func save(pending: TrainResumeState.PendingTallies?) throws {
        let state = TrainResumeState(key: context.key, step: trainer.step, evaluations: evaluations, stepLosses: stepLosses,
                                     seconds: seconds, pending: pending)
        try state.save(model: trainer.model, velocity: trainer.sgd.velocity, in: context.partialsDirectory)
        lastSave = Date()
    }
}
