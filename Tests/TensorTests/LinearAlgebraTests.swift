import XCTest
@testable import Tensor

final class LinearAlgebraTests: XCTestCase {
    func testGemmAgainstLoops() throws {
        let a = Tensor.normal([5, 7], rng: Philox(seed: 1)), b = Tensor.normal([7, 3], rng: Philox(seed: 2))
        let c = try matmul(a, b)
        var worst: Float = 0
        for i in 0..<5 { for j in 0..<3 {
            var s: Double = 0
            for k in 0..<7 { s += Double(a[i, k]) * Double(b[k, j]) }
            worst = max(worst, abs(Float(s) - c[i, j]))
        } }
        print("TENSOR OK gemm maxdiff = \(worst)")
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertThrowsError(try matmul(a, a))
    }

    func testGemmTransposes() {
        // (Aᵀ)(Bᵀ) with A 3×2, B 4×3 → 2×4
        let a = Philox(seed: 3).normal(count: 6), b = Philox(seed: 4).normal(count: 12)
        var c = [Float](repeating: 0, count: 8)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            gemm(m: 2, n: 4, k: 3, a: pa.baseAddress!, transposeA: true, b: pb.baseAddress!, transposeB: true, c: pc.baseAddress!)
        } } }
        for i in 0..<2 { for j in 0..<4 {
            var s: Float = 0
            for k in 0..<3 { s += a[k * 2 + i] * b[j * 3 + k] }
            XCTAssertEqual(c[i * 4 + j], s, accuracy: 1e-5)
        } }
    }

    func testDoubleGemm() {
        // Cᵀ-free check: (2×3)·(3×2) in Float64 against loops, then with A transposed.
        let a: [Double] = [1, 2, 3, 4, 5, 6], b: [Double] = [0.5, -1, 2, 0.25, -3, 1e-9]
        var c = [Double](repeating: 0, count: 4), ct = [Double](repeating: 0, count: 9)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in gemm(m: 2, n: 2, k: 3, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!) }
            // Aᵀ (3×2) · A (2×3) = 3×3
            ct.withUnsafeMutableBufferPointer { pc in
                gemm(m: 3, n: 3, k: 2, a: pa.baseAddress!, transposeA: true, b: pa.baseAddress!, c: pc.baseAddress!)
            }
        } }
        for i in 0..<2 { for j in 0..<2 {
            var s = 0.0
            for k in 0..<3 { s += a[i * 3 + k] * b[k * 2 + j] }
            XCTAssertEqual(c[i * 2 + j], s, accuracy: 1e-15)
        } }
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(ct[i * 3 + j], a[i] * a[j] + a[3 + i] * a[3 + j], accuracy: 1e-12) } }
    }

    /// A = U·diag(s)·Vᵀ with U, V permutation-and-sign matrices: the singular values are |s| sorted.
    func testSingularValuesOfKnownMatrix() throws {
        let a = Tensor(shape: [3, 4], data: [0, 0, -3, 0,
                                             5, 0, 0, 0,
                                             0, 0, 0, 0.5])
        let s = try singularValues(a)
        XCTAssertEqual(s.count, 3)
        for (x, y) in zip(s, [5, 3, 0.5] as [Float]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        let d = try singularValues(a.data.map(Double.init), rows: 3, cols: 4)
        for (x, y) in zip(d, [5, 3, 0.5]) { XCTAssertEqual(x, y, accuracy: 1e-12) }
    }

    /// Float vs Float64 SVD agree, and for an N(0, 1/N) square matrix the largest singular value is near 2
    /// (quarter-circle law; paper-notes §5).
    func testRandomMatrixSpectrum() throws {
        let n = 200
        let a = Tensor.normal([n, n], rng: Philox(seed: 5), std: 1 / Float(n).squareRoot())
        let s = try singularValues(a)
        let d = try singularValues(a.data.map(Double.init), rows: n, cols: n)
        let diff = zip(s, d).map { abs(Double($0) - $1) }.max() ?? 0
        print("TENSOR OK sgesdd vs dgesdd maxdiff = \(diff), σmax = \(d[0])")
        XCTAssertLessThan(diff, 1e-4)
        XCTAssertEqual(d[0], 2, accuracy: 0.15)
        XCTAssertEqual(s, s.sorted(by: >))
    }

    func testSVDRejectsNonMatrix() {
        XCTAssertThrowsError(try singularValues(Tensor(zeros: [2, 2, 2])))
        XCTAssertThrowsError(try singularValues([1, 2, 3], rows: 2, cols: 2))
    }

    func testParallelChunksCoverEverything() {
        var hits = [Int](repeating: 0, count: 100_000)
        hits.withUnsafeMutableBufferPointer { h in
            let p = h.baseAddress!
            parallelChunks(100_000, minimumPerPart: 1000) { r in for i in r { p[i] += 1 } }
        }
        XCTAssertEqual(hits.min(), 1)
        XCTAssertEqual(hits.max(), 1)
    }

    func testDNNLContextAndReorder() throws {
        let ctx = try DNNLContext()
        let src = try MemoryDesc.make([2, 16, 3, 3], dnnl_nchw_tag())
        let dst = try MemoryDesc.make([2, 16, 3, 3], dnnl_blocked_tag())
        let r = try DNNLPrimitive.reorder(from: src, to: dst, context: ctx)
        let a = FloatBuffer(Philox(seed: 1).normal(count: 288)), b = FloatBuffer(count: 288)
        let ma = try DNNLMemory(src, ctx, pointer: a.pointer), mb = try DNNLMemory(dst, ctx, pointer: b.pointer)
        try r.execute(ctx, [(DNNLArg.from, ma), (DNNLArg.to, mb)])
        // nChw16c: (b, c, p) at (b·9 + p)·16 + c.
        for bb in 0..<2 { for c in 0..<16 { for p in 0..<9 {
            XCTAssertEqual(b.pointer[(bb * 9 + p) * 16 + c], a.pointer[(bb * 16 + c) * 9 + p])
        } } }
        XCTAssertThrowsError(try MemoryDesc.make([2, 3], dnnl_blocked_tag()))
    }
}
