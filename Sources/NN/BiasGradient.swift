import Tensor

extension Blocked {
    /// g ← g · [y > 0] (`reluMask`), and sums[c] ← Σ over batch and space of the masked g: the ReLU's
    /// backward pass fused with the gradient of the bias of the conv whose output gradient g becomes.
    /// The pass reads and writes g anyway, so the bias gradient costs no extra sweep over memory, where
    /// oneDNN's backward-weights pass spends about a tenth of a no-BN training step on it (README,
    /// "Engine plan"). The engine plan decides which of the two computes it (`EnginePlan.BiasGradient`).
    ///
    /// The summation order is fixed by the shapes alone: per image in float (four interleaved
    /// 16-lane accumulators), images in double within eight fixed groups, groups in order. So the
    /// result does not depend on the thread count, unlike the mask pass's parallel split, which needs
    /// no such care.
    public static func reluMaskChannelSums(_ g: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>,
                                           sums: UnsafeMutablePointer<Float>, B: Int, C: Int, HW: Int,
                                           threads: Int = parallelThreadCount) {
        let blocks = C / block, slab = HW * block
        let groups = Swift.min(B, 8)
        withUnsafeTemporaryAllocation(of: SIMD16<Double>.self, capacity: blocks * groups) { partial in
            guard let totals = partial.baseAddress else { return }
            parallelChunks(blocks * groups, minimumPerPart: 1, threads: threads) { items in
                for item in items {
                    let cb = item / groups, group = item % groups
                    var total = SIMD16<Double>.zero
                    for b in (B * group / groups)..<(B * (group + 1) / groups) {
                        let base = (b * blocks + cb) * slab
                        total += SIMD16<Double>(maskAndSum(g + base, y + base, count: slab))
                    }
                    totals[item] = total
                }
            }
            for cb in 0..<blocks {
                for j in 0..<block {
                    // In nChw8c a 16-lane vector holds two positions of the block's 8 channels: lanes j and j + 8.
                    var s = 0.0
                    for group in 0..<groups {
                        let t = totals[cb * groups + group]
                        for lane in stride(from: j, to: 16, by: block) { s += t[lane] }
                    }
                    sums[cb * block + j] = Float(s)
                }
            }
        }
    }

    /// Masks `count` floats of g in place and returns their sum by lane: float i counts in lane i mod 16
    /// (`count` is a multiple of the block, so lane j holds channel j mod block).
    @inline(__always)
    private static func maskAndSum(_ g: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> SIMD16<Float> {
        let vectors = count / 16
        var a0 = SIMD16<Float>.zero, a1 = a0, a2 = a0, a3 = a0
        var v = 0
        while v + 4 <= vectors {
            let m0 = reluMask16(load(g, v * 16), load(y, v * 16)), m1 = reluMask16(load(g, v * 16 + 16), load(y, v * 16 + 16))
            let m2 = reluMask16(load(g, v * 16 + 32), load(y, v * 16 + 32)), m3 = reluMask16(load(g, v * 16 + 48), load(y, v * 16 + 48))
            store(g, v * 16, m0); store(g, v * 16 + 16, m1); store(g, v * 16 + 32, m2); store(g, v * 16 + 48, m3)
            a0 += m0; a1 += m1; a2 += m2; a3 += m3
            v += 4
        }
        while v < vectors {
            let m = reluMask16(load(g, v * 16), load(y, v * 16))
            store(g, v * 16, m)
            a0 += m
            v += 1
        }
        // An odd number of positions in nChw8c leaves half a vector.
        for k in 0..<(count - vectors * 16) {
            let i = vectors * 16 + k, masked: Float = y[i] > 0 ? g[i] : 0
            g[i] = masked
            a0[k] += masked
        }
        return (a0 + a1) + (a2 + a3)
    }
}
