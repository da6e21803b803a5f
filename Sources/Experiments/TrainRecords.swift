import ArrayFormats
import Foundation
import NN

/// One evaluation point of a training run (Fig. 1 plots these against `percentOfTraining`).
public struct TrainEvaluation: Codable, Equatable, Sendable {
    /// Epochs done, fractional when evaluated within an epoch.
    public var epoch: Double
    /// SGD steps done.
    public var step: Int
    public var percentOfTraining: Double
    public var learningRate: Double
    /// Accuracy and mean loss over the training mini-batches since the previous evaluation, as SGD saw
    /// them (augmented, BN in training mode): the usual "train accuracy" of ResNet training logs.
    public var trainAccuracy: Double
    public var trainLoss: Double
    /// On the test images (BN with running averages).
    public var testAccuracy: Double
    public var testLoss: Double
}

/// Everything a `train` stage reports: the run, its evaluations and, for a diverged run, where.
public struct TrainMetrics: Codable, Equatable, Sendable {
    public var normalization: Normalization
    public var learningRate: Double
    public var depth: Int
    public var seed: Int
    public var epochs: Int
    public var trainImages: Int
    public var testImages: Int
    public var stepsPerEpoch: Int
    public var totalSteps: Int
    public var evaluations: [TrainEvaluation]
    /// True when a mini-batch loss exceeded the threshold (or was not finite); training stopped there.
    public var diverged: Bool
    public var divergenceStep: Int?
    public var divergenceLoss: Double?
    /// After the last step of a run that did not diverge: the clean training accuracy (plateau or not)
    /// and the accuracy on the final test set. nil for a diverged run.
    public var endpoint: TrainEndpoint?

    public var final: TrainEvaluation? { evaluations.last }
    /// Whether the run reached its plateau (false for a diverged run, or one recorded before the check existed).
    public var reachedPlateau: Bool { endpoint?.reachedPlateau ?? false }
}

/// What `train` keeps in its partials directory so a killed run resumes where it was: weights, the
/// optimiser's velocity, and the records so far. Written after every evaluation.
struct TrainResumeState: Codable {
    /// The stage key this state belongs to; a state of other params is ignored.
    var key: String
    var step: Int
    var evaluations: [TrainEvaluation]
    var stepLosses: [Float]
    /// Training time so far, across resumes: only for the log's last line. The action record times the
    /// last attempt; a result never holds a time, so that recomputing it can give the same bytes.
    var seconds: Double
    /// The train-accuracy tallies since the last evaluation, for a state saved between evaluations
    /// (by wall time or on SIGTERM); nil in a state saved at an evaluation.
    var pending: PendingTallies?

    struct PendingTallies: Codable, Equatable {
        var seen: Int
        var correct: Int
        var lossSum: Double
    }

    static let stateFile = "train-state.json"
    static let weightsFile = "train-state.safetensors"
    static let velocityFile = "train-velocity.npy"

    func save(model: ResNet, velocity: [Float], in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try model.saveCheckpoint(to: directory.appendingPathComponent(Self.weightsFile))
        try NPY.write(try NPYArray(float32: velocity, shape: [velocity.count]), to: directory.appendingPathComponent(Self.velocityFile))
        // The JSON last: its presence means the other two files are complete.
        try ResultJSON.write(self, to: directory.appendingPathComponent(Self.stateFile))
    }

    /// The saved state for `key`, with its weights and velocity, or nil when there is none (or it is
    /// unreadable: a resume is an optimisation, never a reason to fail).
    static func load(key: String, from directory: URL) -> (state: TrainResumeState, model: ResNet, velocity: [Float])? {
        let stateURL = directory.appendingPathComponent(stateFile)
        guard FileManager.default.fileExists(atPath: stateURL.path),
              let state = try? ResultJSON.read(TrainResumeState.self, from: stateURL), state.key == key,
              let model = try? ResNet(checkpointAt: directory.appendingPathComponent(weightsFile)),
              let velocity = try? NPY.read(from: directory.appendingPathComponent(velocityFile)).float32Values(),
              velocity.count == model.parameters.count
        else { return nil }
        return (state, model, velocity)
    }
}

enum TrainCSV {
    static func render(_ m: TrainMetrics) -> String {
        var lines = ["epoch,step,percent_of_training,learning_rate,train_accuracy,train_loss,test_accuracy,test_loss"]
        for e in m.evaluations {
            lines.append("\(e.epoch),\(e.step),\(e.percentOfTraining),\(e.learningRate),\(e.trainAccuracy),\(e.trainLoss),\(e.testAccuracy),\(e.testLoss)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
