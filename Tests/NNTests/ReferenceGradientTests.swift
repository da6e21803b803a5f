import XCTest
@testable import NN

/// Every reference layer's backward against central finite differences of its forward (Float64),
/// through the scalar L = Σ out · r for a fixed random r.
final class ReferenceGradientTests: XCTestCase {
    let tol = 1e-6

    func report(_ name: String, _ err: Double) {
        print("GRADIENT OK \(name): max relative error vs finite differences = \(err)")
        XCTAssertLessThan(err, tol, name)
    }

    func testConv() {
        for (s, bias) in [(1, true), (2, false), (2, true)] {
            let (B, Ci, H, Co) = (2, 3, 5, 4)
            let Ho = (H - 1) / s + 1
            let x = randomDoubles(B * Ci * H * H, seed: 1), w = randomDoubles(Co * Ci * 9, seed: 2)
            let b = bias ? randomDoubles(Co, seed: 3) : nil, r = randomDoubles(B * Co * Ho * Ho, seed: 4)
            func loss(_ x: [Double], _ w: [Double], _ b: [Double]?) -> Double {
                var out: [Double] = []
                Reference.convForward(&out, x, w, b, B, Ci, H, H, Co, s)
                return zip(out, r).reduce(0) { $0 + $1.0 * $1.1 }
            }
            var dx: [Double] = [], dw: [Double] = [], db: [Double] = []
            Reference.convBackward(&dx, &dw, &db, r, x, w, B, Ci, H, H, Co, s)
            report("conv s\(s) dx", finiteDifferenceError(x, dx, indices: sampleIndices(x.count, count: 40, seed: 5)) { loss($0, w, b) })
            report("conv s\(s) dw", finiteDifferenceError(w, dw, indices: sampleIndices(w.count, count: 40, seed: 6)) { loss(x, $0, b) })
            if let b { report("conv s\(s) dbias", finiteDifferenceError(b, db, indices: Array(0..<Co)) { loss(x, w, $0) }) }
        }
    }

    func testBatchNorm() {
        let (B, C, HW) = (3, 2, 4)
        let x = randomDoubles(B * C * HW, seed: 1, scale: 2), g = randomDoubles(C, seed: 2), be = randomDoubles(C, seed: 3)
        let r = randomDoubles(x.count, seed: 4)
        func loss(_ x: [Double], _ g: [Double], _ be: [Double]) -> Double {
            var out: [Double] = [], m: [Double] = [], rs: [Double] = []
            Reference.batchNormForward(&out, &m, &rs, x, g, be, B, C, HW, 1e-5)
            return zip(out, r).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var out: [Double] = [], m: [Double] = [], rs: [Double] = []
        Reference.batchNormForward(&out, &m, &rs, x, g, be, B, C, HW, 1e-5)
        var dx: [Double] = [], dg: [Double] = [], db: [Double] = []
        Reference.batchNormBackward(&dx, &dg, &db, r, x, g, m, rs, B, C, HW)
        report("bn dx", finiteDifferenceError(x, dx, indices: Array(0..<x.count)) { loss($0, g, be) })
        report("bn dγ", finiteDifferenceError(g, dg, indices: Array(0..<C)) { loss(x, $0, be) })
        report("bn dβ", finiteDifferenceError(be, db, indices: Array(0..<C)) { loss(x, g, $0) })
    }

    func testReluShortcutPoolLinear() {
        // ReLU (inputs kept away from the kink).
        let x = randomDoubles(30, seed: 1).map { $0 + ($0 >= 0 ? 0.1 : -0.1) }, r = randomDoubles(30, seed: 2)
        var y: [Double] = [], dx: [Double] = []
        Reference.reluForward(&y, x)
        Reference.reluBackward(&dx, r, y)
        report("relu", finiteDifferenceError(x, dx, indices: Array(0..<30)) { v in
            var o: [Double] = []; Reference.reluForward(&o, v); return zip(o, r).reduce(0) { $0 + $1.0 * $1.1 }
        })
        // Option-A shortcut, 2 → 4 channels, stride 2.
        let (B, Ci, H, Co) = (2, 2, 4, 4)
        let xs = randomDoubles(B * Ci * H * H, seed: 3), rs = randomDoubles(B * Co * 4, seed: 4)
        var ds: [Double] = []
        Reference.shortcutBackward(&ds, rs, B, Ci, H, H, Co, 2)
        report("shortcut", finiteDifferenceError(xs, ds, indices: Array(0..<xs.count)) { v in
            var o: [Double] = []; Reference.shortcutForward(&o, v, B, Ci, H, H, Co, 2); return zip(o, rs).reduce(0) { $0 + $1.0 * $1.1 }
        })
        // Global average pooling.
        let xp = randomDoubles(2 * 3 * 4, seed: 5), rp = randomDoubles(6, seed: 6)
        var dp: [Double] = []
        Reference.poolBackward(&dp, rp, 2, 3, 4)
        report("pool", finiteDifferenceError(xp, dp, indices: Array(0..<xp.count)) { v in
            var o: [Double] = []; Reference.poolForward(&o, v, 2, 3, 4); return zip(o, rp).reduce(0) { $0 + $1.0 * $1.1 }
        })
        // Linear.
        let xl = randomDoubles(3 * 5, seed: 7), w = randomDoubles(4 * 5, seed: 8), b = randomDoubles(4, seed: 9)
        let rl = randomDoubles(12, seed: 10)
        func lin(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            var o: [Double] = []; Reference.linearForward(&o, x, w, b, 3, 5, 4); return zip(o, rl).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var dxl: [Double] = [], dw: [Double] = [], db: [Double] = []
        Reference.linearBackward(&dxl, &dw, &db, rl, xl, w, 3, 5, 4)
        report("linear dx", finiteDifferenceError(xl, dxl, indices: Array(0..<xl.count)) { lin($0, w, b) })
        report("linear dw", finiteDifferenceError(w, dw, indices: Array(0..<w.count)) { lin(xl, $0, b) })
        report("linear db", finiteDifferenceError(b, db, indices: Array(0..<4)) { lin(xl, w, $0) })
    }

    func testCrossEntropy() {
        let (B, K) = (3, 5)
        let z = randomDoubles(B * K, seed: 1, scale: 3), labels = [0, 4, 2]
        var losses: [Double] = [], probs: [Double] = [], dz: [Double] = []
        _ = Reference.crossEntropyForward(&losses, &probs, z, labels, B, K)
        Reference.crossEntropyBackward(&dz, probs, labels, B, K)
        report("cross-entropy", finiteDifferenceError(z, dz, indices: Array(0..<z.count)) { v in
            var l: [Double] = [], p: [Double] = []
            return Reference.crossEntropyForward(&l, &p, v, labels, B, K)
        })
    }

    /// The whole reference ResNet-8 (each normalisation) against finite differences, on sampled parameters.
    func testReferenceResNet() throws {
        for norm in [Normalization.batchNorm, .none, .lastLayerOnly] {
            let config = try ResNetConfig(depth: 8, normalization: norm, imageSize: 4)
            let (err, n) = referenceResNetGradientError(config)
            print("GRADIENT OK reference ResNet-8 \(norm): max relative error over \(n) parameters = \(err)")
            XCTAssertLessThan(err, 1e-4, "\(norm)")
        }
    }
}

/// Largest relative error of the reference ResNet's parameter gradient against central differences of its
/// loss (Float64), over 3 sampled entries of every tensor, with BN affine parameters, biases and the linear
/// layer perturbed away from their initial values; and how many entries were checked.
func referenceResNetGradientError(_ config: ResNetConfig, batch B: Int = 2) -> (error: Double, count: Int) {
    var p = config.initialParameters(seed: 3).map(Double.init)
    let noise = randomDoubles(p.count, seed: 4, scale: 0.1)
    for e in config.parameterLayout.entries where !e.name.hasSuffix("conv.weight") { for j in e.range { p[j] += noise[j] } }
    let size = config.imageSize
    let images = randomDoubles(B * 3 * size * size, seed: 5), labels = (0..<B).map { (2 + 5 * $0) % 10 }
    let net = ReferenceResNet(config: config)
    let out = net.run(parameters: p, images: images, labels: labels, batch: B)
    var idx: [Int] = []
    for e in config.parameterLayout.entries { idx += sampleIndices(e.count, count: 3, seed: UInt64(e.offset)).map { $0 + e.offset } }
    let err = finiteDifferenceError(p, out.gradients, indices: idx, h: 1e-6) { v in
        net.run(parameters: v, images: images, labels: labels, batch: B, computeGradients: false).loss
    }
    return (err, idx.count)
}
