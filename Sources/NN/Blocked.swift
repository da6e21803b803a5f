import CDNNL
import Tensor

// Kernels over oneDNN's blocked layout, the layout activations keep from layer to layer: with L = `block`
// (16 or 8), element (b, c, p) of a [B, C, H·W] tensor lives at ((b·C/L + c/L)·HW + p)·L + c%L.
// Every channel count in the network is a multiple of 16, so there is no padding.

public enum Blocked {
    /// Channels per block: 16 (nChw16c, AVX-512's width) or 8 (nChw8c, AVX2's), the layout whose
    /// convolutions oneDNN runs natively on this CPU. A property of the process, like its thread count:
    /// the engine plan sets it once before any network is built (`EnginePlan.install`).
    public private(set) static var block = 16

    /// Sets the layout of every network built from now on. Networks built before keep their buffers in
    /// the old layout, so this is for start-up and for tests that build their networks afterwards.
    public static func use(block: Int) {
        precondition(block == 16 || block == 8, "the blocked layout has 8 or 16 channels per block, not \(block)")
        Blocked.block = block
    }

    /// oneDNN's tag for the layout.
    static var formatTag: dnnl_format_tag_t { block == 8 ? dnnl_nChw8c : dnnl_nChw16c }

    @inline(__always)
    public static func index(_ b: Int, _ c: Int, _ p: Int, C: Int, HW: Int) -> Int {
        ((b * (C / block) + c / block) * HW + p) * block + c % block
    }

    public static func fromNCHW(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, B: Int, C: Int, HW: Int) {
        for b in 0..<B { for c in 0..<C { for p in 0..<HW {
            dst[index(b, c, p, C: C, HW: HW)] = src[(b * C + c) * HW + p]
        } } }
    }

    public static func toNCHW(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, B: Int, C: Int, HW: Int) {
        for b in 0..<B { for c in 0..<C { for p in 0..<HW {
            dst[(b * C + c) * HW + p] = src[index(b, c, p, C: C, HW: HW)]
        } } }
    }

    /// g ← g · [y > 0]: ReLU backward from its output.
    public static func reluMask(_ g: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count n: Int,
                                threads: Int = parallelThreadCount) {
        // Sixteen lanes at a time with a mask: the scalar loop (a store under a branch, or a select) did
        // not vectorise and ran 40× slower (measured with `bnrepro-bench loops`). n is a multiple of 16
        // in the blocked layout; a scalar tail keeps other counts correct.
        let vectors = n / 16
        parallelChunks(vectors, minimumPerPart: 1 << 11, threads: threads) { r in
            for v in r { store(g, v * 16, reluMask16(load(g, v * 16), load(y, v * 16))) }
        }
        for i in (vectors * 16)..<n where !(y[i] > 0) { g[i] = 0 }
    }

    /// y ← relu(src + shortcut(x)), the option-A shortcut: x[B, Ci, Hi, Hi] subsampled by `stride`, placed in
    /// channels 0..<Ci of the Co output channels (channels Ci..<Co get zeros). src may be y.
    public static func addShortcutRelu(_ y: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                       B: Int, Ci: Int, Hi: Int, Co: Int, stride s: Int, threads: Int = parallelThreadCount) {
        let Ho = Hi / s, HWo = Ho * Ho, HWi = Hi * Hi
        let cbi = Ci / block, cbo = Co / block
        parallelChunks(B * cbo, minimumPerPart: max(1, (1 << 15) / (HWo * block)), threads: threads) { r in
            for bc in r {
                let b = bc / cbo, cb = bc % cbo
                let yb = y + bc * HWo * block, sb = src + bc * HWo * block
                if cb < cbi {
                    let xb = x + (b * cbi + cb) * HWi * block
                    if s == 1 {
                        for i in 0..<(HWo * block) { yb[i] = Swift.max(sb[i] + xb[i], 0) }
                    } else {
                        for oy in 0..<Ho { for ox in 0..<Ho {
                            let yo = (oy * Ho + ox) * block, xo = (oy * s * Hi + ox * s) * block
                            for j in 0..<block { yb[yo + j] = Swift.max(sb[yo + j] + xb[xo + j], 0) }
                        } }
                    }
                } else {
                    for i in 0..<(HWo * block) { yb[i] = Swift.max(sb[i], 0) }
                }
            }
        }
    }

    /// dx ← dx + shortcutᵀ(g): the adjoint of the option-A shortcut, accumulated.
    public static func addShortcutBackward(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                           B: Int, Ci: Int, Hi: Int, Co: Int, stride s: Int, threads: Int = parallelThreadCount) {
        let Ho = Hi / s, HWo = Ho * Ho, HWi = Hi * Hi
        let cbi = Ci / block, cbo = Co / block
        parallelChunks(B * cbi, minimumPerPart: max(1, (1 << 15) / (HWi * block)), threads: threads) { r in
            for bc in r {
                let b = bc / cbi, cb = bc % cbi
                let gb = g + (b * cbo + cb) * HWo * block
                let xb = dx + bc * HWi * block
                if s == 1 {
                    for i in 0..<(HWi * block) { xb[i] += gb[i] }
                } else {
                    for oy in 0..<Ho { for ox in 0..<Ho {
                        let go = (oy * Ho + ox) * block, xo = (oy * s * Hi + ox * s) * block
                        for j in 0..<block { xb[xo + j] += gb[go + j] }
                    } }
                }
            }
        }
    }

    /// out[B, C] = mean over space of inp (blocked).
    public static func pool(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, B: Int, C: Int, HW: Int) {
        let scale = 1 / Float(HW)
        for b in 0..<B { for cb in 0..<(C / block) {
            var acc = [Float](repeating: 0, count: block)
            let base = inp + (b * (C / block) + cb) * HW * block
            for p in 0..<HW { for j in 0..<block { acc[j] += base[p * block + j] } }
            for j in 0..<block { out[b * C + cb * block + j] = acc[j] * scale }
        } }
    }

    public static func poolBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                    B: Int, C: Int, HW: Int) {
        let scale = 1 / Float(HW)
        for b in 0..<B { for cb in 0..<(C / block) {
            let base = dinp + (b * (C / block) + cb) * HW * block
            for p in 0..<HW { for j in 0..<block { base[p * block + j] = dout[b * C + cb * block + j] * scale } }
        } }
    }

    /// Per-channel mean and (biased) variance over batch and space, two passes in Float64 (activations of
    /// unnormalised nets reach 1e8, where E[x²] − E[x]² would cancel).
    public static func channelMoments(_ inp: UnsafePointer<Float>, B: Int, C: Int, HW: Int) -> (mean: [Double], variance: [Double]) {
        var s = [Double](repeating: 0, count: C), s2 = [Double](repeating: 0, count: C)
        for b in 0..<B { for cb in 0..<(C / block) {
            let base = inp + (b * (C / block) + cb) * HW * block
            for p in 0..<HW { for j in 0..<block { s[cb * block + j] += Double(base[p * block + j]) } }
        } }
        let n = Double(B * HW)
        let mean = s.map { $0 / n }
        for b in 0..<B { for cb in 0..<(C / block) {
            let base = inp + (b * (C / block) + cb) * HW * block
            for p in 0..<HW { for j in 0..<block {
                let d = Double(base[p * block + j]) - mean[cb * block + j]
                s2[cb * block + j] += d * d
            } }
        } }
        return (mean, s2.map { $0 / n })
    }
}
