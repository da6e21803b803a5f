import CBLAS

public enum LinearAlgebraError: Error, CustomStringConvertible {
    case shapeMismatch(String)
    case lapackFailed(routine: String, info: Int32)
    /// A computation that lost its numbers: a vector that vanished or overflowed.
    case numerical(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let what): return "matrix shapes do not fit: \(what)"
        case .numerical(let what): return "numerical failure: \(what)"
        case .lapackFailed(let routine, let info):
            return info < 0
                ? "\(routine): argument \(-info) was illegal (a bug in the wrapper)"
                : "\(routine): the SVD did not converge (info = \(info)); the matrix may contain NaN or Inf"
        }
    }
}

/// C = alpha · op(A) · op(B) + beta · C for row-major matrices via OpenBLAS sgemm.
/// op(A) is m×k, op(B) is k×n, C is m×n; A is stored m×k (or k×m if transposeA), likewise B.
public func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, transposeA: Bool = false,
                 b: UnsafePointer<Float>, transposeB: Bool = false,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>) {
    let lda = transposeA ? m : k
    let ldb = transposeB ? k : n
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(n))
}

/// Float64 `gemm` (dgemm): the random-matrix study multiplies up to five matrices, whose smallest
/// singular values (10⁻¹⁰ and below) float32 rounding would bury.
public func gemm(m: Int, n: Int, k: Int, alpha: Double = 1,
                 a: UnsafePointer<Double>, transposeA: Bool = false,
                 b: UnsafePointer<Double>, transposeB: Bool = false,
                 beta: Double = 0, c: UnsafeMutablePointer<Double>) {
    let lda = transposeA ? m : k
    let ldb = transposeB ? k : n
    cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(n))
}

/// Matrix product of two rank-2 tensors.
public func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[0] else {
        throw LinearAlgebraError.shapeMismatch("\(a.shape) × \(b.shape)")
    }
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var c = Tensor(zeros: [m, n])
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            c.data.withUnsafeMutableBufferPointer { pc in
                guard let ba = pa.baseAddress, let bb = pb.baseAddress, let bc = pc.baseAddress else { return }
                gemm(m: m, n: n, k: k, a: ba, b: bb, c: bc)
            }
        }
    }
    return c
}

/// Singular values (descending) of a rank-2 float tensor via LAPACK sgesdd (values only, jobz = "N").
/// LAPACK is column-major; the singular values of Aᵀ equal those of A, so no transpose is needed.
public func singularValues(_ a: Tensor) throws -> [Float] {
    guard a.shape.count == 2 else { throw LinearAlgebraError.shapeMismatch("SVD needs a matrix, got \(a.shape)") }
    var m = Int32(a.shape[1]), n = Int32(a.shape[0])
    var lda = m, ldu: Int32 = 1, ldvt: Int32 = 1, info: Int32 = 0
    var work = a.data
    var s = [Float](repeating: 0, count: Int(min(m, n)))
    var iwork = [Int32](repeating: 0, count: 8 * Int(min(m, n)))
    var u: Float = 0, vt: Float = 0
    var jobz = Int8(UInt8(ascii: "N"))
    var query: Float = 0
    var lwork: Int32 = -1
    sgesdd_(&jobz, &m, &n, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info)
    guard info == 0 else { throw LinearAlgebraError.lapackFailed(routine: "sgesdd (workspace query)", info: info) }
    lwork = Int32(query) + 1
    var scratch = [Float](repeating: 0, count: Int(lwork))
    sgesdd_(&jobz, &m, &n, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &scratch, &lwork, &iwork, &info)
    guard info == 0 else { throw LinearAlgebraError.lapackFailed(routine: "sgesdd", info: info) }
    return s
}

/// Singular values (descending) of a row-major rows×cols Float64 matrix via LAPACK dgesdd.
public func singularValues(_ a: [Double], rows: Int, cols: Int) throws -> [Double] {
    guard a.count == rows * cols else {
        throw LinearAlgebraError.shapeMismatch("\(a.count) values for a \(rows)×\(cols) matrix")
    }
    var m = Int32(cols), n = Int32(rows)
    var lda = m, ldu: Int32 = 1, ldvt: Int32 = 1, info: Int32 = 0
    var work = a
    var s = [Double](repeating: 0, count: Int(min(m, n)))
    var iwork = [Int32](repeating: 0, count: 8 * Int(min(m, n)))
    var u: Double = 0, vt: Double = 0
    var jobz = Int8(UInt8(ascii: "N"))
    var query: Double = 0
    var lwork: Int32 = -1
    dgesdd_(&jobz, &m, &n, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info)
    guard info == 0 else { throw LinearAlgebraError.lapackFailed(routine: "dgesdd (workspace query)", info: info) }
    lwork = Int32(query) + 1
    var scratch = [Double](repeating: 0, count: Int(lwork))
    dgesdd_(&jobz, &m, &n, &work, &lda, &s, &u, &ldu, &vt, &ldvt, &scratch, &lwork, &iwork, &info)
    guard info == 0 else { throw LinearAlgebraError.lapackFailed(routine: "dgesdd", info: info) }
    return s
}

/// Sets the number of OpenBLAS threads (the random-matrix study runs one product at a time).
public func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
