import ArrayFormats
import AtomicIO
import Foundation

/// The decoded data set on disk: one directory of .npy arrays and JSON, the `cifar10-decode` stage's output.
public enum CIFAR10Arrays {
    public static let trainImages = "train_images.npy"
    public static let trainLabels = "train_labels.npy"
    public static let testImages = "test_images.npy"
    public static let testLabels = "test_labels.npy"
    public static let classes = "classes.json"
    public static let normalization = "normalization.json"
    public static let summary = "summary.json"
    public static let fileNames = [trainImages, trainLabels, testImages, testLabels, classes, normalization, summary]

    /// Counts that make a decode checkable at a glance (and by tests of the stage).
    public struct Summary: Codable, Equatable, Sendable {
        public let trainCount: Int
        public let testCount: Int
        public let trainPerClass: [Int]
        public let testPerClass: [Int]
    }

    /// Writes every file atomically. Returns the names written.
    @discardableResult
    public static func write(_ data: CIFAR10, stats: ChannelStats, to directory: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shape = { (n: Int) in [n, LabeledImages.channels, LabeledImages.height, LabeledImages.width] }
        try NPY.write(try NPYArray(uint8: data.train.images, shape: shape(data.train.count)),
                      to: directory.appendingPathComponent(trainImages))
        try NPY.write(try NPYArray(uint8: data.train.labels, shape: [data.train.count]),
                      to: directory.appendingPathComponent(trainLabels))
        try NPY.write(try NPYArray(uint8: data.test.images, shape: shape(data.test.count)),
                      to: directory.appendingPathComponent(testImages))
        try NPY.write(try NPYArray(uint8: data.test.labels, shape: [data.test.count]),
                      to: directory.appendingPathComponent(testLabels))
        try writeJSON(data.classNames, to: directory.appendingPathComponent(classes))
        try writeJSON(stats, to: directory.appendingPathComponent(normalization))
        let summary = Summary(trainCount: data.train.count, testCount: data.test.count,
                              trainPerClass: data.train.countsPerClass(), testPerClass: data.test.countsPerClass())
        try writeJSON(summary, to: directory.appendingPathComponent(Self.summary))
        return fileNames
    }

    /// Loads what `write` wrote, checking shapes, types and label range.
    public static func load(from directory: URL) throws -> (data: CIFAR10, stats: ChannelStats) {
        var files: [String: URL] = [:]
        for name in fileNames { files[name] = directory.appendingPathComponent(name) }
        return try load(files: files)
    }

    /// The same from a map of output name → file, which is how a stage sees its dependency's outputs
    /// (`StageInputs.files`: each file lives in the object store under its digest, not under its name).
    public static func load(files: [String: URL]) throws -> (data: CIFAR10, stats: ChannelStats) {
        func file(_ name: String) throws -> URL {
            guard let url = files[name] else {
                throw CIFAR10Error.badArrayFile(path: name, message: "missing from the decoded data set's files")
            }
            return url
        }
        func split(_ imagesFile: String, _ labelsFile: String) throws -> LabeledImages {
            let imagesURL = try file(imagesFile), labelsURL = try file(labelsFile)
            let images = try NPY.read(from: imagesURL)
            let labels = try NPY.read(from: labelsURL)
            guard images.shape.count == 4, images.shape.dropFirst() == [3, 32, 32], images.dtype == .uint8 else {
                throw CIFAR10Error.badArrayFile(path: imagesURL.path,
                                                message: "expected uint8 N×3×32×32, found \(images.dtype) \(images.shape)")
            }
            guard labels.shape == [images.shape[0]], labels.dtype == .uint8 else {
                throw CIFAR10Error.badArrayFile(path: labelsURL.path,
                                                message: "expected uint8 [\(images.shape[0])], found \(labels.dtype) \(labels.shape)")
            }
            if let bad = labels.bytes.first(where: { $0 >= CIFAR10.classCount }) {
                throw CIFAR10Error.badArrayFile(path: labelsURL.path, message: "label \(bad) is outside 0–9")
            }
            return try LabeledImages(images: images.bytes, labels: labels.bytes)
        }
        let train = try split(trainImages, trainLabels)
        let test = try split(testImages, testLabels)
        let names = try readJSON([String].self, from: try file(classes))
        let stats = try readJSON(ChannelStats.self, from: try file(normalization))
        return (CIFAR10(train: train, test: test, classNames: names), stats)
    }

    static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(value)
        data.append(0x0A)
        try AtomicFile.write(data, to: url)
    }

    static func readJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: url))
        } catch {
            throw CIFAR10Error.badArrayFile(path: url.path, message: "cannot read: \(error)")
        }
    }
}
