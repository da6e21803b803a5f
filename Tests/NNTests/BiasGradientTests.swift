import XCTest
import Tensor
@testable import NN

/// The engine's conv-bias gradient (`Blocked.reluMaskChannelSums`, chosen by `EnginePlan.biasGradient`):
/// the same mask as `reluMask`, sums that match Float64, bits that do not depend on the thread count, and
/// whole nets that match the Float64 reference with it (`ResNetFastVsReferenceTests.testNetsWithConvBiasesMatch…`).
final class BiasGradientTests: XCTestCase {
    func testTheFusedPassMasksAsReluMaskDoesAndSumsEachChannel() {
        for block in [16, 8] {
            Blocked.use(block: block)
            defer { Blocked.use(block: 16) }
            for (B, C, HW) in [(3, 16, 64), (9, 32, 16), (128, 16, 4), (5, 16, 1), (2, 32, 9)] {
                let n = B * C * HW
                let g = Philox(seed: 11).normal(count: n), y = Philox(seed: 12).normal(count: n)
                var masked = g, fused = g
                var sums = [Float](repeating: .nan, count: C), sums1 = sums
                masked.withUnsafeMutableBufferPointer { m in
                    y.withUnsafeBufferPointer { Blocked.reluMask(m.baseAddress!, $0.baseAddress!, count: n) }
                }
                fused.withUnsafeMutableBufferPointer { f in
                    y.withUnsafeBufferPointer { Blocked.reluMaskChannelSums(f.baseAddress!, $0.baseAddress!, sums: &sums, B: B, C: C, HW: HW, threads: 2) }
                }
                XCTAssertEqual(fused, masked, "block \(block) \(B)×\(C)×\(HW): the mask")
                var again = g
                again.withUnsafeMutableBufferPointer { f in
                    y.withUnsafeBufferPointer { Blocked.reluMaskChannelSums(f.baseAddress!, $0.baseAddress!, sums: &sums1, B: B, C: C, HW: HW, threads: 1) }
                }
                XCTAssertEqual(sums1.map(\.bitPattern), sums.map(\.bitPattern), "block \(block): one thread and two give the same bits")
                for c in 0..<C {
                    var exact = 0.0, magnitude = 0.0
                    for b in 0..<B { for p in 0..<HW {
                        let v = Double(masked[Blocked.index(b, c, p, C: C, HW: HW)])
                        exact += v; magnitude += abs(v)
                    } }
                    XCTAssertEqual(Double(sums[c]), exact, accuracy: 1e-6 * magnitude + 1e-7, "block \(block) \(B)×\(C)×\(HW) channel \(c)")
                }
            }
        }
    }

    /// The choice is the plan's: an engine-computed bias gradient differs from oneDNN's in the last bits
    /// only, and a plan without the field (every record from before the choice) is oneDNN's, JSON unchanged.
    func testThePlanChoosesWhoComputesTheBiasGradient() throws {
        XCTAssertEqual(EnginePlan(block: 8).json, #"{"block":8,"convolutions":{}}"#, "old plans' JSON is unchanged")
        XCTAssertNil(try EnginePlan(json: #"{"block":8,"convolutions":{}}"#).biasGradient)
        let engine = EnginePlan(block: 8, biasGradient: .engine)
        XCTAssertEqual(try EnginePlan(json: engine.json), engine)
        XCTAssertEqual(EnginePlanMeasurement.chooseBiasGradient([.oneDNN: 1.0, .engine: 0.97]), .oneDNN, "within 5 %: oneDNN")
        XCTAssertEqual(EnginePlanMeasurement.chooseBiasGradient([.oneDNN: 1.0, .engine: 0.9]), .engine)

        func gradients(_ plan: EnginePlan) throws -> (bias: [Float], weights: [Float]) {
            ActiveEnginePlan.install(plan, measuring: false)
            defer { ActiveEnginePlan.install(.defaults, measuring: false) }
            let config = try ResNetConfig(depth: 8, normalization: .none, imageSize: 8)
            let model = try ResNet(config: config, seed: 3)
            _ = try model.forward(images: Philox(seed: 4).normal(count: 4 * 3 * 64), labels: [Int32]([0, 1, 2, 3]))
            _ = try model.backward()
            let g = model.gradientVector()
            let entries = config.parameterLayout.entries
            return (entries.filter { $0.name.hasSuffix("conv.bias") }.flatMap { Array(g[$0.range]) },
                    entries.filter { $0.name.hasSuffix("conv.weight") }.flatMap { Array(g[$0.range]) })
        }
        let library = try gradients(EnginePlan(block: 8)), ours = try gradients(EnginePlan(block: 8, biasGradient: .engine))
        XCTAssertEqual(ours.weights, library.weights, "the weights' gradient is oneDNN's either way")
        XCTAssertEqual(ours.bias.count, library.bias.count)
        XCTAssertGreaterThan(ours.bias.count, 0)
        for (a, b) in zip(ours.bias, library.bias) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        XCTAssertNotEqual(ours.bias.map(\.bitPattern), library.bias.map(\.bitPattern),
                          "the engine's sums run in another order than oneDNN's: some bias gradient differs in its last bits")
    }

    func testTheMeasurementTimesBothSides() throws {
        let seconds = try EnginePlanMeasurement.biasGradientSeconds(block: 8)
        XCTAssertEqual(Set(seconds.keys), [.oneDNN, .engine])
        XCTAssertTrue(seconds.values.allSatisfy { $0 > 0 && $0 < 1 }, "\(seconds)")
        XCTAssertEqual(Blocked.block, 16, "the measurement leaves the layout as it found it")
    }
}

extension ResNetFastVsReferenceTests {
    /// Every net with conv biases, every shortcut, both layouts: with the engine's bias gradient the fast
    /// net still matches the Float64 reference (the same tolerances as oneDNN's).
    func testNetsWithConvBiasesMatchTheReferenceWithTheEnginesBiasGradient() throws {
        for block in [16, 8] {
            ActiveEnginePlan.install(EnginePlan(block: block, biasGradient: .engine), measuring: false)
            defer { ActiveEnginePlan.install(.defaults, measuring: false) }
            for shortcut in [Shortcut.optionA, .optionB] {
                for norm in [Normalization.none, .lastLayerOnly] {
                    let config = try ResNetConfig(depth: 8, normalization: norm, shortcut: shortcut, imageSize: 8)
                    XCTAssertTrue(config.convBias)
                    try check(config)
                }
            }
        }
    }
}
