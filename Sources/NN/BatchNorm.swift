import Tensor

/// Batch normalisation over the blocked layout (nChw16c or nChw8c, `Blocked.block`), optionally fused with the ReLU that follows it.
/// Written here rather than taken from oneDNN: oneDNN 2.6's batch-norm kernels synchronise their
/// threads with spin barriers, which on a loaded 2-core machine made them 20× slower than one thread;
/// these loops fork and join once per pass. Statistics are accumulated per plane in Float and combined
/// in Float64, in a fixed order (the same numbers for any thread count).
///
/// Shapes: inp, out [B, C, HW] blocked; gamma, beta, mean, variance [C]. Variance is the biased one.
public enum BatchNorm {
    /// The shortcut added after normalisation in a block's second conv: out = relu(BN(inp) + shortcut(x)),
    /// x [B, channels, size, size] blocked, subsampled by `stride` into the first `channels` output channels
    /// (the block input for option A and identity blocks; other shortcuts are computed first and come
    /// here as a full-shape x with stride 1).
    public struct Residual {
        public let x: UnsafePointer<Float>
        public let channels: Int, size: Int, stride: Int
        public init(x: UnsafePointer<Float>, channels: Int, size: Int, stride: Int) {
            self.x = x; self.channels = channels; self.size = size; self.stride = stride
        }
    }

    /// out = γ·(inp − μ)/sqrt(σ² + ε) + β, then max(·, 0) if `relu`. Training: μ, σ² are the batch's and are
    /// written to `mean`, `variance`; otherwise they are read from there.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                               _ variance: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                               B: Int, C: Int, HW: Int, epsilon: Float, training: Bool, relu: Bool,
                               residual: Residual? = nil, threads: Int = parallelThreadCount) {
        let L = Blocked.block, CB = C / L
        let minPlanes = max(1, (1 << 15) / (HW * L))
        if training {
            // One pass: sums of (x − k) and (x − k)² with k = the channel's first value, which keeps the
            // E[d²] − E[d]² subtraction well-conditioned when the mean is large next to the spread.
            var shiftK = [Float](repeating: 0, count: C)
            for c in 0..<C { shiftK[c] = inp[(c / L) * HW * L + c % L] }
            let k = LaneVectors(shiftK)
            let sums = channelSums2(B: B, C: C, HW: HW, threads: threads) { plane, acc1, acc2 in
                let kv = k[plane / HW / L % CB]
                forEachVector(HW * L) { i in let d = load(inp, plane + i) - kv; acc1 += d; acc2 += d * d }
            }
            let n = Double(B * HW)
            for c in 0..<C {
                let m = sums.0[c] / n
                mean[c] = Float(Double(shiftK[c]) + m)
                variance[c] = Float(max(sums.1[c] / n - m * m, 0))
            }
        }
        var scale = [Float](repeating: 0, count: C), shift = scale
        for c in 0..<C {
            let r = 1 / (variance[c] + epsilon).squareRoot()
            scale[c] = gamma[c] * r
            shift[c] = beta[c] - mean[c] * gamma[c] * r
        }
        let scales = LaneVectors(scale), shifts = LaneVectors(shift)
        parallelChunks(B * CB, minimumPerPart: minPlanes, threads: threads) { r in
            for bc in r {
                let cb = bc % CB
                let a = scales[cb], b = shifts[cb]
                let base = bc * HW * L
                if let res = residual, cb < res.channels / L {
                    let b0 = bc / CB, s = res.stride, Hi = res.size
                    let xb = res.x + (b0 * (res.channels / L) + cb) * Hi * Hi * L
                    if s == 1 {
                        forEachVector(HW * L) { i in store(out, base + i, relu16(load(inp, base + i) * a + b + load(xb, i))) }
                    } else {
                        // Subsampled: one pixel's L lanes at a time (16 lanes span two pixels when L is 8).
                        let Ho = Hi / s
                        for oy in 0..<Ho { for ox in 0..<Ho {
                            let p = (oy * Ho + ox) * L, xi = (oy * s * Hi + ox * s) * L
                            if L == 16 {
                                store(out, base + p, relu16(load(inp, base + p) * a + b + load(xb, xi)))
                            } else {
                                for j in 0..<L { out[base + p + j] = relu1(inp[base + p + j] * a[j] + b[j] + xb[xi + j]) }
                            }
                        } }
                    }
                } else if relu || residual != nil {
                    forEachVector(HW * L) { i in store(out, base + i, relu16(load(inp, base + i) * a + b)) }
                } else {
                    forEachVector(HW * L) { i in store(out, base + i, load(inp, base + i) * a + b) }
                }
            }
        }
    }

    /// dinp, dγ, dβ (overwritten) from dout and the forward's inp and batch statistics. If `reluOutput`
    /// is given, the ReLU that followed the normalisation is undone first (dout counts only where the
    /// output > 0); with `storeMaskedGradient` that masked gradient is also written back into dout (a
    /// block's second conv needs it again for the shortcut). dinp may alias dout
    /// (each element is read before it is written).
    public static func backward(_ dinp: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>,
                                _ dbeta: UnsafeMutablePointer<Float>, _ dout: UnsafeMutablePointer<Float>,
                                reluOutput: UnsafePointer<Float>?, storeMaskedGradient: Bool = false,
                                _ inp: UnsafePointer<Float>,
                                _ gamma: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                                _ variance: UnsafePointer<Float>, B: Int, C: Int, HW: Int, epsilon: Float,
                                threads: Int = parallelThreadCount) {
        let L = Blocked.block, CB = C / L, minPlanes = max(1, (1 << 15) / (HW * L))
        @inline(__always) func grad(_ i: Int) -> SIMD16<Float> {
            guard let y = reluOutput else { return load(dout, i) }
            return reluMask16(load(dout, i), load(y, i))
        }
        let means = LaneVectors(Array(UnsafeBufferPointer(start: mean, count: C)))
        let (sumG, sumGX) = channelSums2(B: B, C: C, HW: HW, threads: threads) { plane, acc1, acc2 in
            let m = means[plane / HW / L % CB]
            forEachVector(HW * L) { p in
                let gi = grad(plane + p)
                if storeMaskedGradient { store(dout, plane + p, gi) }
                acc1 += gi; acc2 += gi * (load(inp, plane + p) - m)
            }
        }
        // Once stored, dout is already masked.
        let masked = storeMaskedGradient || reluOutput == nil
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
        let v1 = LaneVectors(k1), v2 = LaneVectors(k2), v3 = LaneVectors(k3)
        parallelChunks(B * CB, minimumPerPart: minPlanes, threads: threads) { r in
            for bc in r {
                let cb = bc % CB
                let c1 = v1[cb], c2 = v2[cb], c3 = v3[cb], m = means[cb]
                let base = bc * HW * L
                forEachVector(HW * L) { p in
                    let i = base + p
                    store(dinp, i, c1 * (masked ? load(dout, i) : grad(i)) + c2 * (load(inp, i) - m) + c3)
                }
            }
        }
    }

    /// Two per-channel sums over all (b, c-block) planes: `plane(offset, &acc1, &acc2)` accumulates one
    /// plane in 16 Float lanes (lane k holds channel k mod L); planes are combined in Float64, per part and then in part order.
    static func channelSums2(B: Int, C: Int, HW: Int, threads: Int,
                             _ plane: (Int, inout SIMD16<Float>, inout SIMD16<Float>) -> Void) -> ([Double], [Double]) {
        let L = Blocked.block, CB = C / L, planes = B * CB
        let minPlanes = max(1, (1 << 15) / (HW * L))
        // A fixed number of parts (not one per thread): the sums do not depend on the thread count, and
        // threads can balance parts between them.
        let parts = max(1, min(16, planes / minPlanes))
        var partial = [Double](repeating: 0, count: parts * 2 * C)
        partial.withUnsafeMutableBufferPointer { pp in
            guard let pb = pp.baseAddress else { return }
            parallelChunks(parts, minimumPerPart: 1, threads: threads) { r in
                for part in r {
                    let lo = planes * part / parts, hi = planes * (part + 1) / parts
                    for bc in lo..<hi {
                        var a1 = SIMD16<Float>(repeating: 0), a2 = SIMD16<Float>(repeating: 0)
                        plane(bc * HW * L, &a1, &a2)
                        let c0 = (bc % CB) * L, o = part * 2 * C
                        // Lane k holds channel k mod L (16 lanes span 16/L pixels).
                        for k in 0..<16 { pb[o + c0 + k % L] += Double(a1[k]); pb[o + C + c0 + k % L] += Double(a2[k]) }
                    }
                }
            }
        }
        var s1 = [Double](repeating: 0, count: C), s2 = s1
        for part in 0..<parts { for c in 0..<C { s1[c] += partial[part * 2 * C + c]; s2[c] += partial[part * 2 * C + C + c] } }
        return (s1, s2)
    }
}

/// Per-channel values spread over 16 lanes for each channel block: lane k of block cb holds channel
/// cb·L + k mod L, matching 16 consecutive floats of the blocked layout (16/L pixels of L channels).
struct LaneVectors {
    private let vectors: [SIMD16<Float>]
    init(_ perChannel: [Float]) {
        let L = Blocked.block
        vectors = (0..<(perChannel.count / L)).map { cb in
            var v = SIMD16<Float>(repeating: 0)
            for k in 0..<16 { v[k] = perChannel[cb * L + k % L] }
            return v
        }
    }
    @inline(__always) subscript(block: Int) -> SIMD16<Float> { vectors[block] }
}

/// Calls `body` with the offset of each 16-float vector of a plane of n floats. Every plane in the network
/// is a multiple of 16 floats (L = 16, or L = 8 with an even number of pixels); the tests' smallest maps too.
@inline(__always) func forEachVector(_ n: Int, _ body: (Int) -> Void) {
    precondition(n % 16 == 0, "a blocked plane of \(n) floats is not a multiple of 16")
    var i = 0
    while i < n { body(i); i += 16 }
}

/// max(v, 0) per lane. The standard library's generic `pointwiseMax` was not specialised here: it ran lane
/// by lane and made the normalisation pass compute-bound at 1.4 GB/s (measured, `bnrepro-bench loops`).
@inline(__always) func relu16(_ v: SIMD16<Float>) -> SIMD16<Float> {
    v.replacing(with: SIMD16<Float>(repeating: 0), where: v .< SIMD16<Float>(repeating: 0))
}

/// relu16 for one float (the same result for −0 and NaN).
@inline(__always) func relu1(_ v: Float) -> Float { v < 0 ? 0 : v }

/// g · [y > 0] per lane: ReLU backward from its output. `.!(y .> 0)`, not `y .<= 0`, so that a NaN output
/// passes no gradient, in the BN backward and in `Blocked.reluMask` alike.
@inline(__always) func reluMask16(_ g: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
    g.replacing(with: SIMD16<Float>(repeating: 0), where: .!(y .> SIMD16<Float>(repeating: 0)))
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
