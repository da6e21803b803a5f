import XCTest
import Tensor
@testable import NN

/// Each fast layer (oneDNN / blocked float32 kernels) against the Float64 reference on random inputs.
final class FastLayerTests: XCTestCase {
    /// Buffers stay alive for the whole test: Swift may release a local right after its last use,
    /// which for `buffer.pointer` is before the call that uses the pointer.
    private var held: [FloatBuffer] = []
    func hold(_ b: FloatBuffer) -> UnsafeMutablePointer<Float> { held.append(b); return b.pointer }

    func check(_ name: String, _ fast: [Double], _ ref: [Double], tol: Double = 1e-4) {
        let d = maxAbsDiff(fast, ref), rel = d / max(maxAbs(ref), 1e-6)
        print("TENSOR OK \(name): maxdiff = \(d) (relative \(rel))")
        XCTAssertLessThan(rel, tol, name)
    }

    func testConvolution() throws { try checkConvolutions() }

    /// Both activation layouts, whatever this CPU would pick: the engine's nChw16c, and the layout oneDNN
    /// chooses with the activations staged around each call (what an AVX2 machine runs).
    func testConvolutionInEitherActivationLayout() throws {
        for layout in ["engine", "any"] {
            try withConvLayout(layout) { try checkConvolutions() }
        }
    }

    func checkConvolutions() throws {
        let ctx = try DNNLContext()
        for c in [ConvolutionCase(16, 16, 6, stride: 1, bias: true), ConvolutionCase(16, 32, 6, stride: 2, bias: false),
                  ConvolutionCase(32, 64, 4, stride: 2, bias: true), ConvolutionCase(3, 16, 5, stride: 1, bias: true, stem: true)] {
            let prim = try c.primitives(ctx)
            for pass in c.passes {
                for (what, fast, ref) in try c.run(pass, on: prim) { check("\(c.tag) \(what)", fast, ref) }
            }
        }
    }

    func testBatchNorm() throws {
        let (B, C, H) = (3, 32, 4), HW = H * H
        let x = randomDoubles(B * C * HW, seed: 1, scale: 3).map { $0 + 1 }
        let g = randomDoubles(C, seed: 2), be = randomDoubles(C, seed: 3), dy = randomDoubles(x.count, seed: 4)
        let xb = blocked(x, B: B, C: C, HW: HW), gb = FloatBuffer(g.map(Float.init)), bb = FloatBuffer(be.map(Float.init))
        var yRef: [Double] = [], m: [Double] = [], rs: [Double] = []
        Reference.batchNormForward(&yRef, &m, &rs, x, g, be, B, C, HW, 1e-5)
        for relu in [false, true] {
            let tag = relu ? "bn+relu" : "bn"
            let yb = FloatBuffer(count: x.count), mb = FloatBuffer(count: C), vb = FloatBuffer(count: C)
            BatchNorm.forward(hold(yb), hold(mb), hold(vb), hold(xb), hold(gb), hold(bb), B: B, C: C, HW: HW,
                              epsilon: 1e-5, training: true, relu: relu)
            var target = yRef
            if relu { Reference.reluForward(&target, yRef) }
            check("\(tag) forward (training)", unblocked(yb, B: B, C: C, HW: HW), target)
            check("\(tag) batch mean", mb.array.map(Double.init), m)
            check("\(tag) batch variance", vb.array.map(Double.init), rs.map { 1 / ($0 * $0) - 1e-5 })
            // Backward: through the ReLU (reference) and then BN.
            var dn = dy
            if relu { Reference.reluBackward(&dn, dy, target) }
            var dxRef: [Double] = [], dgRef: [Double] = [], dbRef: [Double] = []
            Reference.batchNormBackward(&dxRef, &dgRef, &dbRef, dn, x, g, m, rs, B, C, HW)
            let dyb = blocked(dy, B: B, C: C, HW: HW), dxb = FloatBuffer(count: x.count)
            let dgb = FloatBuffer(count: C), dbb = FloatBuffer(count: C)
            BatchNorm.backward(hold(dxb), hold(dgb), hold(dbb), hold(dyb), reluOutput: relu ? hold(yb) : nil, hold(xb),
                               hold(gb), hold(mb), hold(vb), B: B, C: C, HW: HW, epsilon: 1e-5)
            check("\(tag) backward dx", unblocked(dxb, B: B, C: C, HW: HW), dxRef)
            check("\(tag) backward dγ", dgb.array.map(Double.init), dgRef)
            check("\(tag) backward dβ", dbb.array.map(Double.init), dbRef)
            if relu {
                // The variant that keeps the masked gradient (a block's second conv) agrees and stores it.
                let dy2 = blocked(dy, B: B, C: C, HW: HW), dx2 = FloatBuffer(count: x.count)
                BatchNorm.backward(hold(dx2), hold(dgb), hold(dbb), hold(dy2), reluOutput: hold(yb), storeMaskedGradient: true,
                                   hold(xb), hold(gb), hold(mb), hold(vb), B: B, C: C, HW: HW, epsilon: 1e-5)
                check("\(tag) backward dx (masked gradient stored)", unblocked(dx2, B: B, C: C, HW: HW), dxRef)
                check("\(tag) stored masked gradient", unblocked(dy2, B: B, C: C, HW: HW), dn, tol: 1e-7)
            }
            // Inference with the batch's own statistics reproduces the training output.
            let yi = FloatBuffer(count: x.count)
            BatchNorm.forward(hold(yi), hold(mb), hold(vb), hold(xb), hold(gb), hold(bb), B: B, C: C, HW: HW,
                              epsilon: 1e-5, training: false, relu: relu)
            check("\(tag) forward (inference, same statistics)", unblocked(yi, B: B, C: C, HW: HW), target)
        }
    }

    /// Large enough that the statistics split into several parts and the loops fork (2 threads forced).
    func testBatchNormOnManyParts() throws {
        let (B, C, HW) = (8, 32, 32 * 32)
        let x = randomDoubles(B * C * HW, seed: 11, scale: 2).map { $0 + 3 }, dy = randomDoubles(x.count, seed: 12)
        let g = randomDoubles(C, seed: 13), be = randomDoubles(C, seed: 14)
        var yRef: [Double] = [], m: [Double] = [], rs: [Double] = []
        Reference.batchNormForward(&yRef, &m, &rs, x, g, be, B, C, HW, 1e-5)
        var dxRef: [Double] = [], dgRef: [Double] = [], dbRef: [Double] = []
        Reference.batchNormBackward(&dxRef, &dgRef, &dbRef, dy, x, g, m, rs, B, C, HW)
        let xb = blocked(x, B: B, C: C, HW: HW), gb = FloatBuffer(g.map(Float.init)), bb = FloatBuffer(be.map(Float.init))
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            let yb = FloatBuffer(count: x.count), mb = FloatBuffer(count: C), vb = FloatBuffer(count: C)
            BatchNorm.forward(hold(yb), hold(mb), hold(vb), hold(xb), hold(gb), hold(bb), B: B, C: C, HW: HW,
                              epsilon: 1e-5, training: true, relu: false, threads: threads)
            check("bn forward, \(B * C * HW) values, \(threads) thread(s)", unblocked(yb, B: B, C: C, HW: HW), yRef)
            let dyb = blocked(dy, B: B, C: C, HW: HW), dxb = FloatBuffer(count: x.count)
            let dgb = FloatBuffer(count: C), dbb = FloatBuffer(count: C)
            BatchNorm.backward(hold(dxb), hold(dgb), hold(dbb), hold(dyb), reluOutput: nil, hold(xb), hold(gb), hold(mb), hold(vb),
                               B: B, C: C, HW: HW, epsilon: 1e-5, threads: threads)
            check("bn backward dx, \(threads) thread(s)", unblocked(dxb, B: B, C: C, HW: HW), dxRef)
            check("bn backward dγ, \(threads) thread(s)", dgb.array.map(Double.init), dgRef)
            outputs.append(yb.array + dxb.array + dgb.array)
        }
        XCTAssertEqual(outputs[0], outputs[1], "the same numbers for any thread count")
    }

    func testShortcutAddReluAndPool() {
        for (Ci, Co, H, s) in [(16, 16, 4, 1), (16, 32, 4, 2), (32, 64, 4, 2)] {
            let B = 2, Ho = H / s
            let x = randomDoubles(B * Ci * H * H, seed: 1), n = randomDoubles(B * Co * Ho * Ho, seed: 2)
            var sc: [Double] = [], yRef: [Double] = []
            Reference.shortcutForward(&sc, x, B, Ci, H, H, Co, s)
            Reference.reluForward(&yRef, zip(n, sc).map { $0 + $1 })
            let xb = blocked(x, B: B, C: Ci, HW: H * H), yb = blocked(n, B: B, C: Co, HW: Ho * Ho)
            Blocked.addShortcutRelu(hold(yb), hold(yb), hold(xb), B: B, Ci: Ci, Hi: H, Co: Co, stride: s)
            check("add shortcut + relu \(Ci)→\(Co) s\(s)", unblocked(yb, B: B, C: Co, HW: Ho * Ho), yRef, tol: 1e-6)

            let g = randomDoubles(n.count, seed: 3), d0 = randomDoubles(x.count, seed: 4)
            var dsc: [Double] = []
            Reference.shortcutBackward(&dsc, g, B, Ci, H, H, Co, s)
            let db = blocked(d0, B: B, C: Ci, HW: H * H)
            Blocked.addShortcutBackward(hold(db), hold(blocked(g, B: B, C: Co, HW: Ho * Ho)), B: B, Ci: Ci, Hi: H, Co: Co, stride: s)
            check("shortcut backward (accumulated) \(Ci)→\(Co) s\(s)", unblocked(db, B: B, C: Ci, HW: H * H),
                  zip(d0, dsc).map { $0 + $1 }, tol: 1e-6)
        }
        let (B, C, HW) = (2, 32, 9)
        let x = randomDoubles(B * C * HW, seed: 5)
        var pRef: [Double] = []
        Reference.poolForward(&pRef, x, B, C, HW)
        let out = FloatBuffer(count: B * C)
        Blocked.pool(hold(out), hold(blocked(x, B: B, C: C, HW: HW)), B: B, C: C, HW: HW)
        check("global average pool", out.array.map(Double.init), pRef)
        let dp = randomDoubles(B * C, seed: 6)
        var dRef: [Double] = []
        Reference.poolBackward(&dRef, dp, B, C, HW)
        let din = FloatBuffer(count: x.count)
        Blocked.poolBackward(hold(din), hold(FloatBuffer(dp.map(Float.init))), B: B, C: C, HW: HW)
        check("global average pool backward", unblocked(din, B: B, C: C, HW: HW), dRef)
        let mom = Blocked.channelMoments(hold(blocked(x, B: B, C: C, HW: HW)), B: B, C: C, HW: HW)
        var out2: [Double] = [], m: [Double] = [], rs: [Double] = []
        Reference.batchNormForward(&out2, &m, &rs, x, [Double](repeating: 1, count: C), [Double](repeating: 0, count: C), B, C, HW, 0)
        check("channel means", mom.mean, m, tol: 1e-6)
        check("channel variances", mom.variance, rs.map { 1 / ($0 * $0) }, tol: 1e-6)
    }

    /// The 16-lane ReLU mask against the scalar rule g · [y > 0], on a count with a scalar tail, with
    /// zeros, negatives, NaN in y, and enough elements to split across two threads.
    func testReluMask() {
        for n in [5, 16 * 3 + 7, 1 << 17] {
            let y = randomDoubles(n, seed: 7).enumerated().map { $0.offset % 11 == 0 ? 0 : ($0.offset % 13 == 0 ? .nan : $0.element) }
            let g = randomDoubles(n, seed: 8)
            let expected = zip(g, y).map { $1 > 0 ? $0 : 0 }
            for threads in [1, 2] {
                let gb = FloatBuffer(g.map(Float.init))
                Blocked.reluMask(hold(gb), hold(FloatBuffer(y.map(Float.init))), count: n, threads: threads)
                XCTAssertEqual(gb.array.map(Double.init), expected.map { Double(Float($0)) }, "n \(n), \(threads) thread(s)")
            }
        }
    }

    func testHead() {
        let (B, C, K) = (4, 8, 10)
        let f = randomDoubles(B * C, seed: 1), w = randomDoubles(K * C, seed: 2), b = randomDoubles(K, seed: 3)
        var zRef: [Double] = []
        Reference.linearForward(&zRef, f, w, b, B, C, K)
        let fb = FloatBuffer(f.map(Float.init)), wb = FloatBuffer(w.map(Float.init)), bb = FloatBuffer(b.map(Float.init))
        let z = FloatBuffer(count: B * K)
        Head.linearForward(hold(z), hold(fb), hold(wb), hold(bb), B: B, C: C, K: K)
        check("linear forward", z.array.map(Double.init), zRef)
        let labels: [Int32] = [3, 0, 9, 3]
        var lRef: [Double] = [], pRef: [Double] = [], dzRef: [Double] = []
        let meanRef = Reference.crossEntropyForward(&lRef, &pRef, zRef, labels.map(Int.init), B, K)
        Reference.crossEntropyBackward(&dzRef, pRef, labels.map(Int.init), B, K)
        let losses = FloatBuffer(count: B), dz = FloatBuffer(count: B * K)
        let mean = labels.withUnsafeBufferPointer { Head.crossEntropy(hold(losses), hold(dz), hold(z), $0.baseAddress!, B: B, K: K) }
        XCTAssertEqual(mean, meanRef, accuracy: 1e-5)
        check("cross-entropy per-sample losses", losses.array.map(Double.init), lRef)
        check("cross-entropy ∂L/∂logits", dz.array.map(Double.init), dzRef)
        let df = FloatBuffer(count: B * C), dw = FloatBuffer(count: K * C), db = FloatBuffer(count: K)
        Head.linearBackward(hold(df), hold(dw), hold(db), hold(FloatBuffer(dzRef.map(Float.init))), hold(fb), hold(wb), B: B, C: C, K: K)
        var dfRef: [Double] = [], dwRef: [Double] = [], dbRef: [Double] = []
        Reference.linearBackward(&dfRef, &dwRef, &dbRef, dzRef, f, w, B, C, K)
        check("linear backward dx", df.array.map(Double.init), dfRef)
        check("linear backward dw", dw.array.map(Double.init), dwRef)
        check("linear backward db", db.array.map(Double.init), dbRef)
        // Huge logits stay finite; infinite ones give a non-finite loss (divergence detection).
        let big = FloatBuffer([Float](repeating: 0, count: K)); hold(big)[3] = 1e30
        let one: [Int32] = [0]
        let l = one.withUnsafeBufferPointer { Head.crossEntropy(hold(losses), hold(dz), hold(big), $0.baseAddress!, B: 1, K: K) }
        XCTAssertEqual(l, 1e30, accuracy: 1e24)
        hold(big)[3] = .infinity
        let l2 = one.withUnsafeBufferPointer { Head.crossEntropy(hold(losses), hold(dz), hold(big), $0.baseAddress!, B: 1, K: K) }
        XCTAssertFalse(l2.isFinite)
    }
}

extension FastLayerTests {
    /// Every fast layer in nChw8c, the layout an AVX2 machine's engine plan picks.
    func testEveryFastLayerInNChw8c() throws {
        try withBlock(8) {
            try checkConvolutions()
            try testBatchNorm()
            try testBatchNormOnManyParts()
            testShortcutAddReluAndPool()
            testReluMask()
            testHead()
        }
    }
}

