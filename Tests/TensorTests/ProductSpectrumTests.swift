import Foundation
@testable import Tensor
import XCTest

/// `ProductSpectrum` against SVDs of formed products: directly while the product is well enough
/// conditioned for float64, and through the inverse product beyond that.
final class ProductSpectrumTests: XCTestCase {
    let n = 30

    func factors(_ count: Int, seed: UInt64) -> [[Double]] {
        let rng = Philox(seed: seed), std = Float(1 / Double(n).squareRoot())
        return (0..<count).map { rng.substream(UInt64($0)).normal(count: n * n, std: std).map(Double.init) }
    }

    /// Row-major product of the given matrices, left to right.
    func multiply(_ matrices: [[Double]]) -> [Double] {
        var x = matrices[0]
        for a in matrices.dropFirst() {
            var next = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for k in 0..<n { for j in 0..<n { next[i * n + j] += x[i * n + k] * a[k * n + j] } } }
            x = next
        }
        return x
    }

    /// A⁻¹ by Gauss–Jordan with partial pivoting (independent of the LU path under test).
    func inverse(_ a: [Double]) -> [Double] {
        var m = a, inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        for c in 0..<n {
            let p = (c..<n).max { abs(m[$0 * n + c]) < abs(m[$1 * n + c]) }!
            for j in 0..<n { m.swapAt(c * n + j, p * n + j); inv.swapAt(c * n + j, p * n + j) }
            let d = m[c * n + c]
            for j in 0..<n { m[c * n + j] /= d; inv[c * n + j] /= d }
            for r in 0..<n where r != c {
                let f = m[r * n + c]
                if f == 0 { continue }
                for j in 0..<n { m[r * n + j] -= f * m[c * n + j]; inv[r * n + j] -= f * inv[c * n + j] }
            }
        }
        return inv
    }

    func testExtremesMatchTheSVDOfTheFormedProductForShortProducts() throws {
        let a = factors(4, seed: 3)
        let spectrum = try ProductSpectrum(factors: a, size: n, block: 4)
        let start = Philox(seed: 9).normal(count: n * 4).map(Double.init)
        for m in 1...4 {
            let e = try spectrum.extremes(of: m, start: start, tolerance: 1e-10)
            XCTAssertTrue(e.converged, "M = \(m)")
            let s = try singularValues(multiply(Array(a[0..<m].reversed())), rows: n, cols: n)   // X = A_m ⋯ A_1
            XCTAssertEqual(e.logLargest, log(s[0]), accuracy: 1e-7, "M = \(m)")
            XCTAssertEqual(e.logSmallest, log(s[n - 1]), accuracy: 1e-6, "M = \(m)")
        }
    }

    /// Twenty factors: κ ≈ 10³⁰, far past float64, so the formed X is useless for σ_min; but σ_max of the
    /// formed X⁻¹ = A_1⁻¹ ⋯ A_20⁻¹ is accurate (a top singular value is), and it is 1/σ_min(X).
    func testSmallestSingularValueOfALongProductMatchesTheFormedInverseProduct() throws {
        let m = 20
        let a = factors(m, seed: 5)
        let e = try ProductSpectrum(factors: a, size: n, block: 4)
            .extremes(of: m, start: Philox(seed: 2).normal(count: n * 4).map(Double.init), tolerance: 1e-10)
        XCTAssertTrue(e.converged)
        let inverseProduct = multiply(a.map(inverse))
        let top = try singularValues(inverseProduct, rows: n, cols: n)[0]
        XCTAssertEqual(e.logSmallest, -log(top), accuracy: 1e-6)
        XCTAssertGreaterThan(e.logConditionNumber / log(10), 16, "the case a formed product cannot resolve")
        let formedTop = try singularValues(multiply(Array(a.reversed())), rows: n, cols: n)[0]
        XCTAssertEqual(e.logLargest, log(formedTop), accuracy: 1e-7)
    }

    func testBadShapesAreErrors() {
        XCTAssertThrowsError(try ProductSpectrum(factors: [[1, 2, 3]], size: 2))
        XCTAssertThrowsError(try ProductSpectrum(factors: [[1, 0, 0, 1]], size: 2, block: 3))
        XCTAssertThrowsError(try ProductSpectrum(factors: [[0, 0, 0, 0]], size: 2), "a singular factor has no LU solve")
    }
}
