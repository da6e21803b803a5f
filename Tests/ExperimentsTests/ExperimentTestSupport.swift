import Datasets
import Foundation
@testable import Experiments
@testable import Pipeline
import XCTest

/// Small, learnable CIFAR-shaped data and stage contexts for the experiment stages' tests.
enum ExperimentFixtures {
    /// Images whose class sets their mean colour (ten distinct RGB means) plus uniform noise: a small
    /// network learns them in a couple of epochs, and random crops or flips do not hide the class.
    static func learnableData(train: Int, test: Int, seed: UInt64 = 1) throws -> CIFAR10 {
        var state = seed &* 0x9E3779B97F4A7C15 | 1
        func noise() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 61) - 30
        }
        let means: [[Int]] = (0..<8).map { l in (0..<3).map { c in 40 + 170 * ((l >> c) & 1) } } + [[128, 40, 210], [210, 128, 40]]
        func split(_ n: Int) throws -> LabeledImages {
            var images = [UInt8](repeating: 0, count: n * LabeledImages.imageBytes), labels = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                let label = i % 10
                labels[i] = UInt8(label)
                for c in 0..<3 {
                    for p in 0..<LabeledImages.planeBytes {
                        images[i * LabeledImages.imageBytes + c * LabeledImages.planeBytes + p] = UInt8(max(0, min(255, means[label][c] + noise())))
                    }
                }
            }
            return try LabeledImages(images: images, labels: labels)
        }
        return CIFAR10(train: try split(train), test: try split(test), classNames: (0..<10).map { "class\($0)" })
    }

    /// Writes `data` as a `cifar10-decode` stage would and returns that stage's outputs as an input.
    static func decodeInput(_ data: CIFAR10, in directory: URL) throws -> StageInputs {
        let out = directory.appendingPathComponent("decode")
        try CIFAR10Arrays.write(data, stats: ChannelStats(of: data.train), to: out)
        var files: [String: URL] = [:]
        for name in CIFAR10Arrays.fileNames { files[name] = out.appendingPathComponent(name) }
        return StageInputs(stage: "decode", kind: "cifar10-decode", params: JSONObject(), files: files)
    }

    /// A context as the runner makes it: defaults filled in, then `params`; fresh output and scratch.
    static func context(_ stage: String, _ kind: any StageKind, _ params: [(String, JSONValue)], inputs: [StageInputs],
                        in directory: URL, partials: URL? = nil,
                        progress: @escaping @Sendable (StageProgress) -> Void = { _ in }) throws -> StageContext {
        var object = JSONObject()
        for spec in kind.parameters { if let d = spec.defaultValue { object[spec.name] = d } }
        for (k, v) in params { object[k] = v }
        let base = directory.appendingPathComponent(stage)
        let out = base.appendingPathComponent("out"), scratch = base.appendingPathComponent("scratch")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        return StageContext(stage: stage, key: "key-\(stage)", params: object, inputs: inputs, outputDirectory: out,
                            scratchDirectory: scratch, partialsDirectory: partials ?? base.appendingPathComponent("partials"),
                            progress: progress)
    }

    /// A finished stage's outputs as the input of a later stage.
    static func outputs(of context: StageContext, kind: String) throws -> StageInputs {
        let names = try FileManager.default.contentsOfDirectory(atPath: context.outputDirectory.path)
        var files: [String: URL] = [:]
        for n in names { files[n] = context.output(n) }
        return StageInputs(stage: context.stage, kind: kind, params: context.params, files: files)
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
