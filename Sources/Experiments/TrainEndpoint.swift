import Datasets
import Foundation
import NN

/// Where a training run ended, measured after its last step the way a reader of Fig. 1 compares runs:
/// accuracy on the training images themselves (no augmentation, BN with its running averages), which
/// decides whether the run reached its plateau, and accuracy on the whole test set.
public struct TrainEndpoint: Codable, Equatable, Sendable {
    /// On the run's training images, clean (the plateau measure).
    public var trainAccuracy: Double
    public var trainImages: Int
    /// The bar `trainAccuracy` had to reach (issue 21: 95 %).
    public var plateauAccuracy: Double
    /// On the final test set (every test image unless the params chose a subset).
    public var testAccuracy: Double
    public var testImages: Int

    public var reachedPlateau: Bool { trainAccuracy >= plateauAccuracy }

    /// Accuracy over every image an evaluation assembler yields, in batches of its size.
    static func accuracy(_ model: ResNet, _ images: BatchAssembler) throws -> (accuracy: Double, count: Int) {
        var correct = 0.0, count = 0
        for b in 0..<images.batchesPerEpoch {
            let batch = images.batch(epoch: 0, index: b)
            let e = try model.evaluate(images: batch.images, labels: batch.labels, batchSize: images.options.batchSize)
            correct += e.accuracy * Double(e.count)
            count += e.count
        }
        return (count > 0 ? correct / Double(count) : .nan, count)
    }

    static func measure(_ model: ResNet, train: BatchAssembler, test: BatchAssembler, plateauAccuracy: Double) throws -> TrainEndpoint {
        let tr = try accuracy(model, train), te = try accuracy(model, test)
        return TrainEndpoint(trainAccuracy: tr.accuracy, trainImages: tr.count, plateauAccuracy: plateauAccuracy,
                             testAccuracy: te.accuracy, testImages: te.count)
    }
}
