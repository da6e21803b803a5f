import XCTest
import Tensor
@testable import NN

/// The initialisation schemes' distributions (bounds and standard deviations), the linear layer's own choice,
/// and that the new options leave the other tensors' values and places alone.
final class InitializationOptionTests: XCTestCase {
    private func moments(_ v: [Double]) -> (mean: Double, std: Double) {
        let m = v.reduce(0, +) / Double(v.count)
        return (m, (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot())
    }

    func testPyTorchDefaultIsUniformWithinOneOverRootFanIn() throws {
        for norm in [Normalization.batchNorm, .none] {
            let c = try ResNetConfig(depth: 20, normalization: norm, initialization: .pytorchDefault, shortcut: .optionB)
            let p = c.initialParameters(seed: 5), layout = c.parameterLayout
            // Every conv/linear weight and bias divided by its bound 1/√fan_in: U(−1, 1) (std 1/√3).
            var weights: [Double] = [], biases: [Double] = []
            for e in layout.entries {
                let isWeight = e.name.hasSuffix(".weight") && e.shape.count >= 2
                let weightName = e.name.hasSuffix(".bias") ? String(e.name.dropLast(5)) + ".weight" : e.name
                guard let w = layout[weightName], w.shape.count >= 2 else {
                    // BN: γ = 1, β = 0.
                    XCTAssertTrue(p[e.range].allSatisfy { $0 == (e.name.hasSuffix("bn.weight") ? 1 : 0) }, e.name)
                    continue
                }
                let fanIn = w.shape.dropFirst().reduce(1, *), bound = 1 / Double(fanIn).squareRoot()
                if e.name.contains("shortcut") { XCTAssertEqual(fanIn, w.shape[1], "1×1 conv: fan_in = Ci") }
                let scaled = p[e.range].map { Double($0) / bound }
                // (The bound is rounded to Float before drawing: up to an ulp over.)
                XCTAssertLessThanOrEqual(scaled.map(abs).max() ?? 2, 1 + 1e-6, e.name)
                if isWeight { weights += scaled } else { biases += scaled }
            }
            let (wm, ws) = moments(weights)
            print("INIT OK pytorchDefault \(norm): \(weights.count) weights / bound: mean \(wm), std \(ws) (U(−1, 1): 0.5774), max |·| \(weights.map(abs).max() ?? 0)")
            XCTAssertEqual(ws, 1 / Double(3).squareRoot(), accuracy: 0.01)
            XCTAssertEqual(wm, 0, accuracy: 0.01)
            XCTAssertGreaterThan(weights.map(abs).max() ?? 0, 0.999)
            if norm == .none {
                let (bm, bs) = moments(biases)
                print("INIT OK pytorchDefault biases: \(biases.count) values / bound: mean \(bm), std \(bs)")
                XCTAssertEqual(biases.count, 16 * 7 + 32 * 6 + 64 * 6 + 32 + 64 + 10, "conv, 1×1 and linear biases")
                XCTAssertEqual(bs, 1 / Double(3).squareRoot(), accuracy: 0.03)
            } else {
                XCTAssertEqual(biases.count, 10, "only the linear bias in the BN net")
            }
        }
    }

    func testWeightStdsAndTheLinearLayersOwnChoice() throws {
        // Conv weights and option-B 1×1 weights have the conv scheme's std; the linear layer its own.
        for (conv, linear) in [(Initialization.heNormal, Initialization.xavierNormal), (.xavierNormal, .heNormal),
                               (.pytorchDefault, .heNormal), (.heNormal, .pytorchDefault)] {
            let c = try ResNetConfig(depth: 20, normalization: .none, initialization: conv, linearInitialization: linear,
                                     shortcut: .optionB)
            let p = c.initialParameters(seed: 9)
            var worst = 0.0
            for e in c.parameterLayout.entries where e.shape.count >= 2 {
                let isLinear = e.name.hasSuffix("linear.weight")
                let fanOut = e.shape[0] * e.shape.dropFirst(2).reduce(1, *)
                let target = (isLinear ? linear : conv).weightStd(fanIn: e.shape.dropFirst().reduce(1, *), fanOut: fanOut)
                let s = moments(p[e.range].map(Double.init)).std
                // Sampling error of a std over n values is about 1/√(2n) (relative); 5 of those.
                let tolerance = 5 / (2 * Double(e.count)).squareRoot()
                XCTAssertEqual(s / target, 1, accuracy: tolerance, "\(conv)/\(linear) \(e.name): std \(s), target \(target)")
                worst = max(worst, abs(s / target - 1) / tolerance)
            }
            let lw = p[c.parameterLayout["layer20.linear.weight"].map(\.range) ?? 0..<0].map(Double.init)
            print("INIT OK conv \(conv), linear \(linear): linear weight std \(moments(lw).std) (target \(linear.weightStd(fanIn: 64, fanOut: 10))); worst |std/target − 1| = \(worst) of the tolerance")
            let linearBias = p[c.parameterLayout["layer20.linear.bias"].map(\.range) ?? 0..<0]
            XCTAssertEqual(linearBias.allSatisfy { $0 == 0 }, linear != .pytorchDefault)
            let convBias = p[c.parameterLayout["layer5.conv.bias"].map(\.range) ?? 0..<0]
            XCTAssertEqual(convBias.allSatisfy { $0 == 0 }, conv != .pytorchDefault)
        }
        XCTAssertEqual(Initialization.heNormal.weightStd(fanIn: 64, fanOut: 10), (2.0 / 64).squareRoot())
        XCTAssertEqual(Initialization.xavierNormal.weightStd(fanIn: 64, fanOut: 10), (2.0 / 74).squareRoot())
        XCTAssertEqual(Initialization.pytorchDefault.uniformBound(fanIn: 64), 0.125)
    }

    func testOptionsLeaveTheOtherTensorsAlone() throws {
        for norm in [Normalization.batchNorm, .none, .lastLayerOnly] {
            for ini in Initialization.allCases {
                let a = try ResNetConfig(depth: 20, normalization: norm, initialization: ini)
                let pa = a.initialParameters(seed: 4)
                // The linear layer's choice is the conv layers' unless given.
                XCTAssertEqual(a.linearInitialization, ini)
                XCTAssertEqual(a, try ResNetConfig(depth: 20, normalization: norm, initialization: ini, linearInitialization: ini))
                // Another linear scheme changes the linear tensors only.
                let other: Initialization = ini == .heNormal ? .pytorchDefault : .heNormal
                let l = try ResNetConfig(depth: 20, normalization: norm, initialization: ini, linearInitialization: other)
                let pl = l.initialParameters(seed: 4)
                for e in a.parameterLayout.entries where !e.name.contains("linear") {
                    XCTAssertEqual(Array(pa[e.range]), Array(pl[e.range]), "\(norm) \(ini): \(e.name)")
                }
                // A-split has option A's layout and parameters; option B appends its tensors after them.
                let split = try ResNetConfig(depth: 20, normalization: norm, initialization: ini, shortcut: .optionASplit)
                XCTAssertEqual(split.parameterLayout.entries, a.parameterLayout.entries)
                XCTAssertEqual(split.initialParameters(seed: 4), pa)
                let b = try ResNetConfig(depth: 20, normalization: norm, initialization: ini, shortcut: .optionB)
                let pb = b.initialParameters(seed: 4), n = a.parameterLayout.count
                XCTAssertEqual(Array(b.parameterLayout.entries.prefix(a.parameterLayout.entries.count)), a.parameterLayout.entries)
                XCTAssertEqual(Array(pb.prefix(n)), pa)
                XCTAssertEqual(Array(b.runningStatsLayout.entries.prefix(a.runningStatsLayout.entries.count)),
                               a.runningStatsLayout.entries)
                let added = b.parameterLayout.entries.dropFirst(a.parameterLayout.entries.count).map(\.name)
                let expected = norm == .batchNorm
                    ? ["layer9.shortcut.weight", "layer9.shortcut_bn.weight", "layer9.shortcut_bn.bias",
                       "layer15.shortcut.weight", "layer15.shortcut_bn.weight", "layer15.shortcut_bn.bias"]
                    : ["layer9.shortcut.weight", "layer9.shortcut.bias", "layer15.shortcut.weight", "layer15.shortcut.bias"]
                XCTAssertEqual(added, expected)
            }
        }
        let b = try ResNetConfig(depth: 20, normalization: .batchNorm, shortcut: .optionB)
        XCTAssertEqual(b.parameterLayout["layer9.shortcut.weight"]?.shape, [32, 16, 1, 1])
        XCTAssertEqual(b.parameterLayout["layer15.shortcut.weight"]?.shape, [64, 32, 1, 1])
        XCTAssertEqual(b.runningStatsLayout.entries.suffix(4).map(\.name),
                       ["layer9.shortcut_bn.running_mean", "layer9.shortcut_bn.running_var",
                        "layer15.shortcut_bn.running_mean", "layer15.shortcut_bn.running_var"])
        XCTAssertEqual(b.convLayers.count, 19, "1×1 shortcut convs are not numbered layers")
        // ResNet-110: the transition blocks are layers 38/39 and 74/75; l names the second conv.
        let b110 = try ResNetConfig(depth: 110, normalization: .batchNorm, shortcut: .optionB)
        XCTAssertEqual(b110.transitionBlocks.map(\.layer), [38, 74])
        XCTAssertNotNil(b110.parameterLayout["layer39.shortcut.weight"])
        XCTAssertNotNil(b110.parameterLayout["layer75.shortcut_bn.bias"])
    }
}
