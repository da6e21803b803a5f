import XCTest
import Tensor
@testable import NN

/// The shortcut options layer by layer: reference against finite differences (Float64), fast kernels and
/// the 1×1 oneDNN convolution against the reference.
final class ShortcutOptionTests: XCTestCase {
    private var held: [FloatBuffer] = []
    func hold(_ b: FloatBuffer) -> UnsafeMutablePointer<Float> { held.append(b); return b.pointer }

    func check(_ name: String, _ fast: [Double], _ ref: [Double], tol: Double = 1e-4) {
        let d = maxAbsDiff(fast, ref), rel = d / max(maxAbs(ref), 1e-6)
        print("TENSOR OK \(name): maxdiff = \(d) (relative \(rel))")
        XCTAssertLessThanOrEqual(rel, tol, name)
    }

    func gradientOK(_ name: String, _ err: Double) {
        print("GRADIENT OK \(name): max relative error vs finite differences = \(err)")
        XCTAssertLessThan(err, 1e-6, name)
    }

    func testReferenceShortcutsAgainstFiniteDifferences() {
        // A-split, 4 → 8 channels (offset 2), stride 2.
        let (B, Ci, H, Co) = (2, 4, 4, 8)
        let x = randomDoubles(B * Ci * H * H, seed: 1), r = randomDoubles(B * Co * 4, seed: 2)
        var dx: [Double] = []
        Reference.shortcutBackward(&dx, r, B, Ci, H, H, Co, 2, offset: 2)
        gradientOK("shortcut A-split", finiteDifferenceError(x, dx, indices: Array(0..<x.count)) { v in
            var o: [Double] = []
            Reference.shortcutForward(&o, v, B, Ci, H, H, Co, 2, offset: 2)
            return zip(o, r).reduce(0) { $0 + $1.0 * $1.1 }
        })
        var o: [Double] = []
        Reference.shortcutForward(&o, x, B, Ci, H, H, Co, 2, offset: 2)
        // Channels 0, 1 and 6, 7 are the zeros; channel 2 is input channel 0 at (0, 0), (0, 2), ….
        XCTAssertEqual(o[0..<8].max(), 0)
        XCTAssertEqual(o[(2 * 4)..<(2 * 4 + 4)], [x[0], x[2], x[8], x[10]][...])
        // Option B's 1×1 stride-2 projection, with and without bias, on odd and even sizes.
        for (Hp, bias) in [(4, true), (5, false)] {
            let Ho = (Hp - 1) / 2 + 1
            let xp = randomDoubles(B * Ci * Hp * Hp, seed: 3), w = randomDoubles(Co * Ci, seed: 4)
            let b = bias ? randomDoubles(Co, seed: 5) : nil, rp = randomDoubles(B * Co * Ho * Ho, seed: 6)
            func loss(_ x: [Double], _ w: [Double], _ b: [Double]?) -> Double {
                var out: [Double] = []
                Reference.projectionForward(&out, x, w, b, B, Ci, Hp, Hp, Co, 2)
                return zip(out, rp).reduce(0) { $0 + $1.0 * $1.1 }
            }
            var dxp: [Double] = [], dw: [Double] = [], db: [Double] = []
            Reference.projectionBackward(&dxp, &dw, &db, rp, xp, w, B, Ci, Hp, Hp, Co, 2)
            gradientOK("1×1 s2 H\(Hp) dx", finiteDifferenceError(xp, dxp, indices: Array(0..<xp.count)) { loss($0, w, b) })
            gradientOK("1×1 s2 H\(Hp) dw", finiteDifferenceError(w, dw, indices: Array(0..<w.count)) { loss(xp, $0, b) })
            if let b { gradientOK("1×1 s2 dbias", finiteDifferenceError(b, db, indices: Array(0..<Co)) { loss(xp, w, $0) }) }
        }
    }

    func testFastZeroPaddingShortcutAgainstReference() {
        for (Ci, Co, H, s) in [(16, 32, 4, 2), (32, 64, 4, 2), (16, 16, 4, 1)] {
            for offset in Set([0, (Co - Ci) / 2]).sorted() {
                let B = 2, Ho = H / s, tag = "\(Ci)→\(Co) s\(s) offset \(offset)"
                let x = randomDoubles(B * Ci * H * H, seed: 1)
                var ref: [Double] = []
                Reference.shortcutForward(&ref, x, B, Ci, H, H, Co, s, offset: offset)
                let out = FloatBuffer([Float](repeating: .nan, count: B * Co * Ho * Ho))
                Blocked.shortcutForward(hold(out), hold(blocked(x, B: B, C: Ci, HW: H * H)), B: B, Ci: Ci, Hi: H, Co: Co,
                                        stride: s, offset: offset)
                check("zero-padding shortcut forward \(tag)", unblocked(out, B: B, C: Co, HW: Ho * Ho), ref, tol: 1e-7)
                let g = randomDoubles(B * Co * Ho * Ho, seed: 2), d0 = randomDoubles(x.count, seed: 3)
                var dref: [Double] = []
                Reference.shortcutBackward(&dref, g, B, Ci, H, H, Co, s, offset: offset)
                let dx = blocked(d0, B: B, C: Ci, HW: H * H)
                Blocked.shortcutBackward(hold(dx), hold(blocked(g, B: B, C: Co, HW: Ho * Ho)), B: B, Ci: Ci, Hi: H, Co: Co,
                                         stride: s, offset: offset)
                check("zero-padding shortcut backward (accumulated) \(tag)", unblocked(dx, B: B, C: Ci, HW: H * H),
                      zip(d0, dref).map { $0 + $1 }, tol: 1e-6)
                if offset == 0 {
                    // Option A unfused agrees with the fused add's adjoint.
                    let dA = blocked(d0, B: B, C: Ci, HW: H * H)
                    Blocked.addShortcutBackward(hold(dA), hold(blocked(g, B: B, C: Co, HW: Ho * Ho)), B: B, Ci: Ci, Hi: H,
                                                Co: Co, stride: s)
                    XCTAssertEqual(dA.array, dx.array, tag)
                }
            }
        }
    }

    /// Large enough that the loops split into several parts (2 threads forced): same numbers as 1 thread.
    func testZeroPaddingShortcutOnManyParts() {
        let (B, Ci, H, Co) = (8, 16, 32, 32), Ho = H / 2
        let x = randomDoubles(B * Ci * H * H, seed: 7), g = randomDoubles(B * Co * Ho * Ho, seed: 8)
        var ref: [Double] = [], dref: [Double] = []
        Reference.shortcutForward(&ref, x, B, Ci, H, H, Co, 2, offset: 8)
        Reference.shortcutBackward(&dref, g, B, Ci, H, H, Co, 2, offset: 8)
        var results: [[Float]] = []
        for threads in [1, 2] {
            let out = FloatBuffer(count: B * Co * Ho * Ho), dx = FloatBuffer(count: x.count)
            Blocked.shortcutForward(hold(out), hold(blocked(x, B: B, C: Ci, HW: H * H)), B: B, Ci: Ci, Hi: H, Co: Co,
                                    stride: 2, offset: 8, threads: threads)
            Blocked.shortcutBackward(hold(dx), hold(blocked(g, B: B, C: Co, HW: Ho * Ho)), B: B, Ci: Ci, Hi: H, Co: Co,
                                     stride: 2, offset: 8, threads: threads)
            check("A-split shortcut forward, \(out.count) values, \(threads) thread(s)", unblocked(out, B: B, C: Co, HW: Ho * Ho), ref, tol: 0)
            check("A-split shortcut backward, \(threads) thread(s)", unblocked(dx, B: B, C: Ci, HW: H * H), dref, tol: 1e-7)
            results.append(out.array + dx.array)
        }
        XCTAssertEqual(results[0], results[1])
    }

    func testFastProjectionConvAgainstReference() throws {
        let ctx = try DNNLContext()
        // CIFAR's sizes (32 and 16 px) as well as small ones: oneDNN picks its kernels by shape.
        for (Ci, Co, H, bias) in [(16, 32, 8, false), (16, 32, 8, true), (32, 64, 4, false), (32, 64, 4, true),
                                  (16, 32, 32, false), (32, 64, 16, false), (32, 64, 16, true)] {
            let B = 3, Ho = H / 2, tag = "1×1 conv \(Ci)→\(Co) \(H)px s2\(bias ? " bias" : "")"
            let prim = try ConvPrimitives(context: ctx, batch: B, inChannels: Ci, outChannels: Co, inputSize: H, stride: 2,
                                          kernel: 1, hasBias: bias, plainInput: false, needsDataGradient: true)
            let x = randomDoubles(B * Ci * H * H, seed: 1), w = randomDoubles(Co * Ci, seed: 2, scale: 0.2)
            let b = randomDoubles(Co, seed: 3), dy = randomDoubles(B * Co * Ho * Ho, seed: 4)
            let xb = blocked(x, B: B, C: Ci, HW: H * H), wb = FloatBuffer(w.map(Float.init)), bb = FloatBuffer(b.map(Float.init))
            let yb = FloatBuffer(count: B * Co * Ho * Ho), scratch = FloatBuffer(count: max(prim.scratchCount, 1))
            try prim.runForward(src: hold(xb), weights: hold(wb), bias: bias ? hold(bb) : nil, dst: hold(yb), scratch: hold(scratch))
            var yRef: [Double] = []
            Reference.projectionForward(&yRef, x, w, bias ? b : nil, B, Ci, H, H, Co, 2)
            check("\(tag) forward", unblocked(yb, B: B, C: Co, HW: Ho * Ho), yRef)
            var dxRef: [Double] = [], dwRef: [Double] = [], dbRef: [Double] = []
            Reference.projectionBackward(&dxRef, &dwRef, &dbRef, dy, x, w, B, Ci, H, H, Co, 2)
            let dyb = blocked(dy, B: B, C: Co, HW: Ho * Ho), dwb = FloatBuffer(count: w.count), dbb = FloatBuffer(count: Co)
            try prim.runBackwardWeights(src: hold(xb), diffDst: hold(dyb), diffWeights: hold(dwb),
                                        diffBias: bias ? hold(dbb) : nil, scratch: hold(scratch))
            check("\(tag) backward-weights", dwb.array.map(Double.init), dwRef)
            if bias { check("\(tag) backward-bias", dbb.array.map(Double.init), dbRef) }
            let dxb = FloatBuffer([Float](repeating: .nan, count: x.count))
            try prim.runBackwardData(diffDst: hold(dyb), weights: hold(wb), diffSrc: hold(dxb), scratch: hold(scratch))
            check("\(tag) backward-data", unblocked(dxb, B: B, C: Ci, HW: H * H), dxRef)
        }
    }

    /// The reference ResNet-8 with each shortcut and initialisation option against finite differences.
    func testReferenceResNetOptionsAgainstFiniteDifferences() throws {
        for norm in [Normalization.batchNorm, .none, .lastLayerOnly] {
            for (shortcut, ini) in [(Shortcut.optionASplit, Initialization.heNormal), (.optionB, .heNormal),
                                    (.optionA, .pytorchDefault), (.optionB, .pytorchDefault)] {
                let config = try ResNetConfig(depth: 8, normalization: norm, initialization: ini, shortcut: shortcut, imageSize: 4)
                let (err, n) = referenceResNetGradientError(config)
                print("GRADIENT OK reference ResNet-8 \(norm) \(shortcut) \(ini): max relative error over \(n) parameters = \(err)")
                XCTAssertLessThan(err, 1e-4, "\(norm) \(shortcut) \(ini)")
            }
        }
        for norm in [Normalization.none, .lastLayerOnly] {
            let config = try ResNetConfig(depth: 8, normalization: norm, shortcut: .optionB, convBias: false, imageSize: 4)
            let (err, n) = referenceResNetGradientError(config)
            print("GRADIENT OK reference ResNet-8 \(norm) optionB without conv biases: max relative error over \(n) parameters = \(err)")
            XCTAssertLessThan(err, 1e-4, "\(norm) without conv biases")
        }
    }
}
