import Tensor

/// Batch normalisation over the nChw16c layout, optionally fused with the ReLU that follows it.
/// Written here rather than taken from oneDNN: oneDNN 2.6's batch-norm kernels synchronise their
/// threads with spin barriers, which on a loaded 2-core machine made them 20× slower than one thread;
/// these loops fork and join once per pass. Statistics are accumulated per plane in Float and combined
/// in Float64, in a fixed order (reproducible for a given thread count).
///
/// Shapes: inp, out [B, C, HW] blocked; gamma, beta, mean, variance [C]. Variance is the biased one.
public enum BatchNorm {
    /// out = γ·(inp − μ)/sqrt(σ² + ε) + β, then max(·, 0) if `relu`. Training: μ, σ² are the batch's and are
    /// written to `mean`, `variance`; otherwise they are read from there.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                               _ variance: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                               B: Int, C: Int, HW: Int, epsilon: Float, training: Bool, relu: Bool) {
        if training {
            let sums = channelSums(B: B, C: C, HW: HW) { plane, acc in
                for p in 0..<HW { acc += load(inp, plane + p * 16) }
            }
            let n = Double(B * HW)
            for c in 0..<C { mean[c] = Float(sums[c] / n) }
            let sq = channelSums(B: B, C: C, HW: HW) { plane, acc in
                let m = load(mean, (plane / HW / 16 % (C / 16)) * 16)
                for p in 0..<HW { let d = load(inp, plane + p * 16) - m; acc += d * d }
            }
            for c in 0..<C { variance[c] = Float(sq[c] / n) }
        }
        var scale = [Float](repeating: 0, count: C), shift = scale
        for c in 0..<C {
            let r = 1 / (variance[c] + epsilon).squareRoot()
            scale[c] = gamma[c] * r
            shift[c] = beta[c] - mean[c] * gamma[c] * r
        }
        let CB = C / 16
        scale.withUnsafeBufferPointer { sc in shift.withUnsafeBufferPointer { sh in
            guard let scp = sc.baseAddress, let shp = sh.baseAddress else { return }
            parallelChunks(B * CB, minimumPerPart: 1) { r in
                for bc in r {
                    let cb = bc % CB
                    let a = load(scp, cb * 16), b = load(shp, cb * 16)
                    let base = bc * HW * 16
                    if relu {
                        let zero = SIMD16<Float>(repeating: 0)
                        for p in 0..<HW { store(out, base + p * 16, pointwiseMax(load(inp, base + p * 16) * a + b, zero)) }
                    } else {
                        for p in 0..<HW { store(out, base + p * 16, load(inp, base + p * 16) * a + b) }
                    }
                }
            }
        } }
    }

    /// dinp, dγ, dβ (overwritten) from dout and the forward's inp and batch statistics. If `reluOutput`
    /// is given, the ReLU fused into the forward is undone first (dout counts only where output > 0).
    /// dinp may alias dout.
    public static func backward(_ dinp: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>,
                                _ dbeta: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                reluOutput: UnsafePointer<Float>?, _ inp: UnsafePointer<Float>,
                                _ gamma: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                _ variance: UnsafePointer<Float>, B: Int, C: Int, HW: Int, epsilon: Float) {
        let CB = C / 16, zero = SIMD16<Float>(repeating: 0)
        @inline(__always) func grad(_ i: Int) -> SIMD16<Float> {
            guard let y = reluOutput else { return load(dout, i) }
            return load(dout, i).replacing(with: zero, where: load(y, i) .<= zero)
        }
        let sumG = channelSums(B: B, C: C, HW: HW) { plane, acc in
            for p in 0..<HW { acc += grad(plane + p * 16) }
        }
        let sumGX = channelSums(B: B, C: C, HW: HW) { plane, acc in
            let m = load(mean, (plane / HW / 16 % CB) * 16)
            for p in 0..<HW { acc += grad(plane + p * 16) * (load(inp, plane + p * 16) - m) }
        }
        let n = Float(B * HW)
        var k1 = [Float](repeating: 0, count: C), k2 = k1, k3 = k1
        for c in 0..<C {
            let r = 1 / (variance[c] + epsilon).squareRoot()
            dbeta[c] = Float(sumG[c])
            dgamma[c] = Float(sumGX[c]) * r
            // dx = γ·r·(g − ΣG/n − (x − μ)·r²·ΣGX/n) = k1·g + k2·(x − μ) + k3
            k1[c] = gamma[c] * r
            k2[c] = -gamma[c] * r * r * r * Float(sumGX[c]) / n
            k3[c] = -gamma[c] * r * Float(sumG[c]) / n
        }
        k1.withUnsafeBufferPointer { a1 in k2.withUnsafeBufferPointer { a2 in k3.withUnsafeBufferPointer { a3 in
            guard let p1 = a1.baseAddress, let p2 = a2.baseAddress, let p3 = a3.baseAddress else { return }
            parallelChunks(B * CB, minimumPerPart: 1) { r in
                for bc in r {
                    let cb = bc % CB
                    let c1 = load(p1, cb * 16), c2 = load(p2, cb * 16), c3 = load(p3, cb * 16), m = load(mean, cb * 16)
                    let base = bc * HW * 16
                    for p in 0..<HW {
                        let i = base + p * 16
                        store(dinp, i, c1 * grad(i) + c2 * (load(inp, i) - m) + c3)
                    }
                }
            }
        } } }
    }

    /// Per-channel sums of `plane(offset, &acc)` over all (b, c-block) planes: each plane accumulates
    /// 16 lanes in Float; planes are combined in Float64, per thread chunk and then in chunk order.
    static func channelSums(B: Int, C: Int, HW: Int,
                            _ plane: (Int, inout SIMD16<Float>) -> Void) -> [Double] {
        let CB = C / 16, planes = B * CB
        let parts = max(1, min(parallelThreadCount, planes))
        var partial = [Double](repeating: 0, count: parts * C)
        partial.withUnsafeMutableBufferPointer { pp in
            guard let pb = pp.baseAddress else { return }
            parallelChunks(parts, minimumPerPart: 1) { r in
                for part in r {
                    let lo = planes * part / parts, hi = planes * (part + 1) / parts
                    for bc in lo..<hi {
                        var acc = SIMD16<Float>(repeating: 0)
                        plane(bc * HW * 16, &acc)
                        let c0 = (bc % CB) * 16
                        for j in 0..<16 { pb[part * C + c0 + j] += Double(acc[j]) }
                    }
                }
            }
        }
        var total = [Double](repeating: 0, count: C)
        for part in 0..<parts { for c in 0..<C { total[c] += partial[part * C + c] } }
        return total
    }
}

@inline(__always) func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) func load(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) func store(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ v: SIMD16<Float>) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
}
