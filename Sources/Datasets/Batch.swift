/// One mini-batch, ready for the network: float32 NCHW images (normalised, augmented if asked) and labels.
public struct ImageBatch: Sendable {
    /// count × 3 × 32 × 32, C order.
    public var images: [Float]
    /// Class indices 0–9.
    public var labels: [Int32]
    /// Which images of the split these are (for checks and for analyses that need the same images again).
    public var indices: [Int]
    public let epoch: Int
    /// Position of this batch within its epoch.
    public let index: Int
    public var count: Int { labels.count }
}

/// How batches are made from a split.
public struct BatchOptions: Sendable, Equatable {
    public var batchSize: Int
    /// Reshuffle the order every epoch (seeded by `seed` and the epoch).
    public var shuffle: Bool
    /// 4-pixel zero padding, random 32×32 crop, random horizontal flip (seeded by seed, epoch and batch).
    public var augment: Bool
    /// Drop the last batch when it would be smaller than `batchSize`.
    public var dropLast: Bool
    public var seed: UInt64
    /// Zero padding on each side before the random crop.
    public var padding: Int

    public init(batchSize: Int, shuffle: Bool, augment: Bool, dropLast: Bool, seed: UInt64, padding: Int = 4) {
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.augment = augment
        self.dropLast = dropLast
        self.seed = seed
        self.padding = padding
    }

    /// Training: shuffled, augmented, full batches only.
    public static func training(batchSize: Int, seed: UInt64) -> BatchOptions {
        BatchOptions(batchSize: batchSize, shuffle: true, augment: true, dropLast: true, seed: seed)
    }

    /// Evaluation: file order, no augmentation, every image.
    public static func evaluation(batchSize: Int) -> BatchOptions {
        BatchOptions(batchSize: batchSize, shuffle: false, augment: false, dropLast: false, seed: 0)
    }
}
