import CBLAS
import Foundation

/// The largest and smallest singular values of a long product X = A_m ⋯ A_2 A_1 of square Float64
/// matrices, without forming it.
///
/// A formed product loses its small singular values once its condition number passes 1/ε ≈ 10¹⁶:
/// for N(0, 1/N) factors of size 1000 that is after about four factors. Here X is never formed. A
/// block of `block` orthonormal columns goes through the factors one at a time and is
/// re-orthonormalised (QR by Gram–Schmidt, twice) after each, as Benettin's algorithm for Lyapunov
/// exponents does; the triangular factors are multiplied into a k×k matrix rescaled as it goes, so no
/// number over- or underflows. One sweep through X and back through Xᵀ is a step of subspace
/// iteration on XᵀX; sweeps repeat until log σ_max changes by less than `tolerance`. The smallest
/// singular value is 1/σ_max(X⁻¹), the same iteration on X⁻¹ = A_1⁻¹ ⋯ A_m⁻¹ through each factor's LU
/// decomposition (a backward-stable solve per factor, where the formed product would not be).
public struct ProductSpectrum {
    public let size: Int
    public let block: Int
    /// Row-major N×N factors, A_1 first.
    let factors: [[Double]]
    /// Each factor's LU decomposition (LAPACK's column-major view of the row-major matrix, i.e. of Aᵀ).
    let lu: [(values: [Double], pivots: [Int32])]

    public struct Estimate: Equatable, Sendable {
        /// Natural logarithms of σ_max and σ_min of the product.
        public let logLargest: Double
        public let logSmallest: Double
        public let sweepsLargest: Int
        public let sweepsSmallest: Int
        public let converged: Bool
        public var logConditionNumber: Double { logLargest - logSmallest }
    }

    public init(factors: [[Double]], size n: Int, block: Int = 8) throws {
        guard n >= 1, block >= 1, block <= n else { throw LinearAlgebraError.shapeMismatch("block \(block) for N = \(n)") }
        guard factors.allSatisfy({ $0.count == n * n }) else {
            throw LinearAlgebraError.shapeMismatch("every factor must hold \(n)×\(n) values")
        }
        size = n
        self.block = block
        self.factors = factors
        lu = try factors.map { a in
            var values = a, pivots = [Int32](repeating: 0, count: n)
            var rows = Int32(n), cols = Int32(n), lda = Int32(n), info: Int32 = 0
            dgetrf_(&rows, &cols, &values, &lda, &pivots, &info)
            guard info >= 0 else { throw LinearAlgebraError.lapackFailed(routine: "dgetrf", info: info) }
            guard info == 0 else { throw LinearAlgebraError.numerical("a factor is exactly singular (dgetrf: U[\(info), \(info)] = 0)") }
            return (values, pivots)
        }
    }

    /// The extremes of the product of the first `count` factors, from a start block drawn by `start`
    /// (column-major N×block; it need not be orthonormal).
    public func extremes(of count: Int, start: [Double], tolerance: Double = 1e-7, maxSweeps: Int = 3000) throws -> Estimate {
        guard count >= 1, count <= factors.count else {
            throw LinearAlgebraError.shapeMismatch("\(count) factors of the \(factors.count) given")
        }
        guard start.count == size * block else { throw LinearAlgebraError.shapeMismatch("start block of \(start.count) values") }
        let forward = (0..<count).map { Step.multiply($0, transpose: false) }
        let inverse = (0..<count).reversed().map { Step.solve($0, transpose: false) }
        let largest = try iterate(start: start, tolerance: tolerance, maxSweeps: maxSweeps,
                                  forward: forward, backward: forward.reversed().map(\.transposed))
        let smallest = try iterate(start: start, tolerance: tolerance, maxSweeps: maxSweeps,
                                   forward: inverse, backward: inverse.reversed().map(\.transposed))
        return Estimate(logLargest: largest.log, logSmallest: -smallest.log, sweepsLargest: largest.sweeps,
                        sweepsSmallest: smallest.sweeps, converged: largest.converged && smallest.converged)
    }

    /// One factor of an operator: A_i, A_iᵀ, A_i⁻¹ or A_i⁻ᵀ.
    enum Step {
        case multiply(Int, transpose: Bool)
        case solve(Int, transpose: Bool)

        var transposed: Step {
            switch self {
            case let .multiply(i, t): return .multiply(i, transpose: !t)
            case let .solve(i, t): return .solve(i, transpose: !t)
            }
        }
    }

    /// Subspace iteration on OᵀO for the operator O = forward (applied first to last; Oᵀ = backward),
    /// the block re-orthonormalised after every factor; returns log σ_max(O).
    private func iterate(start: [Double], tolerance: Double, maxSweeps: Int, forward: [Step], backward: [Step]) throws
        -> (log: Double, sweeps: Int, converged: Bool) {
        var y = start
        _ = try orthonormalize(&y)
        var previous = -Double.infinity
        for sweep in 1...maxSweeps {
            // O·Q = Q'·(R_m ⋯ R_1), so σ_max(O·Q) = σ_max(R_m ⋯ R_1), kept rescaled so nothing overflows.
            var product = identity(block), logScale = 0.0
            for step in forward {
                try apply(step, &y)
                product = multiplyTriangular(try orthonormalize(&y), product)
                let scale = product.map(abs).max() ?? 1
                guard scale > 0, scale.isFinite else { throw LinearAlgebraError.numerical("the block's triangular product reached \(scale)") }
                for i in product.indices { product[i] /= scale }
                logScale += log(scale)
            }
            let estimate = logScale + log(try singularValues(product, rows: block, cols: block)[0])
            if sweep >= 3, abs(estimate - previous) < tolerance { return (estimate, sweep, true) }
            previous = estimate
            for step in backward {
                try apply(step, &y)
                _ = try orthonormalize(&y)
            }
        }
        return (previous, maxSweeps, false)
    }

    private func apply(_ step: Step, _ y: inout [Double]) throws {
        switch step {
        case let .multiply(i, transpose): y = multiply(i, y, transpose: transpose)
        case let .solve(i, transpose): try solve(i, &y, transpose: transpose)
        }
    }

    /// Y ← A_i·Y (or A_iᵀ·Y) for a column-major N×k block: in row-major terms Yᵀ ← Yᵀ·A_iᵀ (or Yᵀ·A_i).
    private func multiply(_ i: Int, _ y: [Double], transpose: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: y.count)
        y.withUnsafeBufferPointer { py in
            factors[i].withUnsafeBufferPointer { pa in
                out.withUnsafeMutableBufferPointer { po in
                    gemm(m: block, n: size, k: size, a: py.baseAddress!, b: pa.baseAddress!, transposeB: !transpose, c: po.baseAddress!)
                }
            }
        }
        return out
    }

    /// Y ← A_i⁻¹·Y (or A_i⁻ᵀ·Y). LAPACK factored Aᵀ (the row-major matrix read column-major), so A⁻¹
    /// is its transposed solve.
    private func solve(_ i: Int, _ y: inout [Double], transpose: Bool) throws {
        var trans = Int8(UInt8(ascii: transpose ? "N" : "T"))
        var n = Int32(size), rhs = Int32(block), lda = Int32(size), ldb = Int32(size), info: Int32 = 0
        lu[i].values.withUnsafeBufferPointer { a in
            lu[i].pivots.withUnsafeBufferPointer { p in
                dgetrs_(&trans, &n, &rhs, a.baseAddress!, &lda, p.baseAddress!, &y, &ldb, &info)
            }
        }
        guard info == 0 else { throw LinearAlgebraError.lapackFailed(routine: "dgetrs", info: info) }
    }

    /// R·P for row-major k×k matrices.
    private func multiplyTriangular(_ r: [Double], _ p: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: block * block)
        r.withUnsafeBufferPointer { pr in
            p.withUnsafeBufferPointer { pp in
                out.withUnsafeMutableBufferPointer { po in
                    gemm(m: block, n: block, k: block, a: pr.baseAddress!, b: pp.baseAddress!, c: po.baseAddress!)
                }
            }
        }
        return out
    }

    /// Gram–Schmidt twice (numerically orthonormal to machine precision) on the columns of a
    /// column-major N×k block; returns the k×k upper-triangular R (row-major) with Y_before = Y·R.
    func orthonormalize(_ y: inout [Double]) throws -> [Double] {
        let n = size, k = block
        var r = [Double](repeating: 0, count: k * k)
        try y.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for j in 0..<k {
                let cj = base + j * n
                for _ in 0..<2 {
                    for i in 0..<j {
                        let ci = base + i * n
                        let dot = cblas_ddot(Int32(n), ci, 1, cj, 1)
                        cblas_daxpy(Int32(n), -dot, ci, 1, cj, 1)
                        r[i * k + j] += dot
                    }
                }
                let norm = cblas_dnrm2(Int32(n), cj, 1)
                guard norm > 0, norm.isFinite else { throw LinearAlgebraError.numerical("block column \(j) vanished or overflowed") }
                cblas_dscal(Int32(n), 1 / norm, cj, 1)
                r[j * k + j] = norm
            }
        }
        return r
    }

    private func identity(_ k: Int) -> [Double] {
        var m = [Double](repeating: 0, count: k * k)
        for i in 0..<k { m[i * k + i] = 1 }
        return m
    }
}
