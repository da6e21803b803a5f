import Foundation

/// Images and labels of one split, as the pipeline stores them: uint8 N×3×32×32 (planes R, G, B, each
/// row-major) and uint8 labels 0–9.
public struct LabeledImages: Sendable, Equatable {
    public static let channels = 3
    public static let height = 32
    public static let width = 32
    public static let imageBytes = channels * height * width  // 3,072
    public static let planeBytes = height * width  // 1,024

    public let images: [UInt8]
    public let labels: [UInt8]
    public var count: Int { labels.count }

    public init(images: [UInt8], labels: [UInt8]) throws {
        guard images.count == labels.count * LabeledImages.imageBytes else {
            throw CIFAR10Error.inconsistentArrays(images: images.count, labels: labels.count)
        }
        self.images = images
        self.labels = labels
    }

    /// How many images each class has, indexed by label.
    public func countsPerClass(classes: Int = 10) -> [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for l in labels where Int(l) < classes { counts[Int(l)] += 1 }
        return counts
    }
}

/// The decoded CIFAR-10 data set.
public struct CIFAR10: Sendable, Equatable {
    public static let classCount = 10
    public let train: LabeledImages
    public let test: LabeledImages
    public let classNames: [String]

    public init(train: LabeledImages, test: LabeledImages, classNames: [String]) {
        self.train = train
        self.test = test
        self.classNames = classNames
    }
}

public enum CIFAR10Error: Error, CustomStringConvertible, Equatable {
    case missingMember(archive: String, member: String)
    case wrongSize(archive: String, member: String, expectedBytes: Int, gotBytes: Int)
    case labelOutOfRange(archive: String, member: String, record: Int, label: Int)
    case badClassList(archive: String, member: String, message: String)
    case inconsistentArrays(images: Int, labels: Int)
    case badArrayFile(path: String, message: String)

    public var description: String {
        switch self {
        case .missingMember(let a, let m):
            return "\(a): has no member '\(m)'; a CIFAR-10 binary archive needs data_batch_1..5.bin, test_batch.bin and batches.meta.txt"
        case .wrongSize(let a, let m, let e, let g):
            return "\(a): member '\(m)' is \(g) bytes but should be \(e) (\(e / 3073) records of 3,073 bytes); the archive is not the CIFAR-10 binary version or is damaged"
        case .labelOutOfRange(let a, let m, let r, let l):
            return "\(a): member '\(m)', record \(r): label \(l) is outside 0–9"
        case .badClassList(let a, let m, let why): return "\(a): member '\(m)': \(why)"
        case .inconsistentArrays(let i, let l):
            return "\(i) image bytes do not match \(l) labels (3,072 bytes per image)"
        case .badArrayFile(let p, let why): return "\(p): \(why)"
        }
    }
}
