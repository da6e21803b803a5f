import XCTest
import Foundation
import ArrayFormats
import Tensor
@testable import NN

/// The options in stored configurations and checkpoints, option B's running statistics, and that the
/// options change the network's function.
final class EngineOptionCheckpointTests: XCTestCase {
    /// The JSON a config had before the options existed: the same keys without the new ones.
    private func oldJSON(_ c: ResNetConfig) throws -> Data {
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(c)) as? [String: Any])
        object["linearInitialization"] = nil
        object["shortcut"] = nil
        object["convBias"] = nil
        return try JSONSerialization.data(withJSONObject: object)
    }

    func testConfigsWithoutTheNewFieldsDecodeAsBefore() throws {
        for ini in [Initialization.heNormal, .xavierNormal] {
            let c = try ResNetConfig(depth: 20, normalization: .none, initialization: ini, bnMomentum: 0.2)
            let back = try JSONDecoder().decode(ResNetConfig.self, from: try oldJSON(c))
            XCTAssertEqual(back, c)
            XCTAssertEqual(back.linearInitialization, ini)
            XCTAssertEqual(back.shortcut, .optionA)
            XCTAssertTrue(back.convBias)
        }
        let full = try ResNetConfig(depth: 8, normalization: .batchNorm, initialization: .pytorchDefault,
                                    linearInitialization: .xavierNormal, shortcut: .optionB)
        XCTAssertEqual(try JSONDecoder().decode(ResNetConfig.self, from: try JSONEncoder().encode(full)), full)
    }

    func testOldCheckpointLoads() throws {
        let m = try ResNet(config: try ResNetConfig(depth: 8, normalization: .batchNorm, initialization: .xavierNormal,
                                                    imageSize: 8), seed: 2)
        var file = try m.checkpoint()
        file.metadata["config"] = String(decoding: try oldJSON(m.config), as: UTF8.self)
        let back = try ResNet(checkpoint: file)
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.parameterVector(), m.parameterVector())
    }

    func testOptionBCheckpointAndRunningStatistics() throws {
        let config = try ResNetConfig(depth: 8, normalization: .batchNorm, shortcut: .optionB, imageSize: 8)
        let m = try ResNet(config: config, seed: 3)
        let batch = syntheticBatch(size: 8, imageSize: 8, seed: 4)
        try m.forward(images: batch.images, labels: batch.labels, updateRunningStats: true)
        // Layer 4 = stage 2's first conv; its input is the shortcut's input. Running stats after one update:
        // 0.9·(0, 1) + 0.1·(batch mean, unbiased batch variance) of the 1×1 conv output.
        let x = try m.convInput(layer: 4).data.map(Double.init)
        let w = try XCTUnwrap(m.parameter(TensorName(.shortcut(5), .weight))).data.map(Double.init)
        var s: [Double] = []
        Reference.projectionForward(&s, x, w, nil, 8, 16, 8, 8, 32, 2)
        let stats = m.runningStatsVector(), layout = config.runningStatsLayout
        let rm = try XCTUnwrap(layout["layer5.shortcut_bn.running_mean"]), rv = try XCTUnwrap(layout["layer5.shortcut_bn.running_var"])
        var worst = 0.0
        for c in 0..<32 {
            let v = (0..<8).flatMap { b in (0..<16).map { s[(b * 32 + c) * 16 + $0] } }
            let mean = v.reduce(0, +) / 128, variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 127
            worst = max(worst, abs(Double(stats[rm.offset + c]) - 0.1 * mean), abs(Double(stats[rv.offset + c]) - (0.9 + 0.1 * variance)))
        }
        print("TENSOR OK option-B shortcut BN running statistics after one update: maxdiff = \(worst)")
        XCTAssertLessThan(worst, 1e-5)

        var t = Trainer(model: m, schedule: LearningRateSchedule(base: 0.1))
        for step in 0..<5 { try t.trainStep(syntheticBatch(size: 8, imageSize: 8, seed: UInt64(10 + step)), totalSteps: 5) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try m.saveCheckpoint(to: url)
        let file = try SafeTensors.read(from: url)
        XCTAssertEqual(try file.tensor("layer7.shortcut.weight").shape, [64, 32, 1, 1])
        XCTAssertNotNil(file.tensors["layer7.shortcut_bn.running_var"])
        let back = try ResNet(checkpointAt: url)
        XCTAssertEqual(back.config, config)
        XCTAssertEqual(back.parameterVector(), m.parameterVector())
        XCTAssertEqual(back.runningStatsVector(), m.runningStatsVector())
        let a = try m.forward(images: batch.images, labels: batch.labels, mode: .inference)
        let b = try back.forward(images: batch.images, labels: batch.labels, mode: .inference)
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.isFinite)
        XCTAssertEqual(try m.kernelReport(batch: 8).filter { $0.hasPrefix("conv 1×1") }.count, 2)
    }

    func testShortcutOptionsChangeTheFunction() throws {
        let batch = syntheticBatch(size: 4, imageSize: 8, seed: 6)
        for norm in [Normalization.batchNorm, .none] {
            var losses: [Double] = []
            for shortcut in [Shortcut.optionA, .optionASplit] {
                let config = try ResNetConfig(depth: 8, normalization: norm, shortcut: shortcut, imageSize: 8)
                losses.append(try ResNet(config: config, seed: 1).forward(images: batch.images, labels: batch.labels))
            }
            XCTAssertGreaterThan(abs(losses[0] - losses[1]), 1e-4, "\(norm): \(losses)")
        }
    }
}

/// A lookup of the wrong tensor (names are typed, so a misspelling no longer compiles, but a wrong owner
/// or part does) must not pass for an absent tensor.
final class OffsetLookupTests: XCTestCase {
    func testAWrongLookupLeavesItsTensorUnread() throws {
        let layout = try ResNetConfig(depth: 8, normalization: .none, imageSize: 8).parameterLayout
        let lookup = OffsetLookup(layout)
        let bias = TensorName(.conv(1), .bias)
        XCTAssertEqual(bias.description, "layer1.conv.bias", "the checkpoint's spelling")
        for entry in layout.entries where entry.tensor != bias { XCTAssertGreaterThanOrEqual(lookup.offset(entry.tensor), 0) }
        XCTAssertEqual(lookup.offset(TensorName(.shortcut(1), .bias)), -1, "the wrong owner looks like an absent tensor")
        XCTAssertEqual(lookup.offset(TensorName(.bn(1), .weight)), -1, "an absent tensor")
        XCTAssertEqual(lookup.unread, ["layer1.conv.bias"])
        XCTAssertGreaterThanOrEqual(lookup.offset(bias), 0)
        XCTAssertEqual(lookup.unread, [])
    }

    /// Every configuration's engine reads every tensor of its layout.
    func testEveryConfigurationReadsItsWholeLayout() throws {
        for norm in Normalization.allCases {
            for shortcut in [Shortcut.optionA, .optionASplit, .optionB] {
                XCTAssertNoThrow(try ResNet(config: try ResNetConfig(depth: 8, normalization: norm, shortcut: shortcut, imageSize: 8), seed: 1),
                                 "\(norm) \(shortcut)")
            }
        }
    }
}
