import Tensor

// The zero-padding shortcut (options A and A-split) as its own forward/backward pair over the blocked
// layout, for when the shortcut is not fused into the residual add: the input x[B, Ci, Hi, Hi] subsampled
// by `stride`, with input channel ci placed on output channel ci + offset of Co and zeros elsewhere.
// offset 0 is option A (the add fuses that one, see `Blocked.addShortcutRelu`); (Co − Ci)/2 is the split
// variant, whose offset (8 at 16 → 32 channels) does not fall on a 16-channel block, so these loops work
// lane by lane.
extension Blocked {
    /// out[B, Co, Ho, Ho] (overwritten): out[b, c, y, x] = x[b, c − offset, s·y, s·x] where 0 ≤ c − offset < Ci, else 0.
    public static func shortcutForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                       B: Int, Ci: Int, Hi: Int, Co: Int, stride s: Int, offset: Int,
                                       threads: Int = parallelThreadCount) {
        let Ho = Hi / s, HWo = Ho * Ho, HWi = Hi * Hi, cbo = Co / block
        parallelChunks(B * cbo, minimumPerPart: max(1, (1 << 15) / (HWo * block)), threads: threads) { r in
            for bc in r {
                let b = bc / cbo, cb = bc % cbo, ob = out + bc * HWo * block
                for j in 0..<block {
                    let ci = cb * block + j - offset
                    guard ci >= 0 && ci < Ci else {
                        for p in 0..<HWo { ob[p * block + j] = 0 }
                        continue
                    }
                    for oy in 0..<Ho { for ox in 0..<Ho {
                        ob[(oy * Ho + ox) * block + j] = x[index(b, ci, oy * s * Hi + ox * s, C: Ci, HW: HWi)]
                    } }
                }
            }
        }
    }

    /// dx[B, Ci, Hi, Hi] += the adjoint of `shortcutForward` applied to g[B, Co, Ho, Ho].
    public static func shortcutBackward(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                        B: Int, Ci: Int, Hi: Int, Co: Int, stride s: Int, offset: Int,
                                        threads: Int = parallelThreadCount) {
        let Ho = Hi / s, HWo = Ho * Ho, HWi = Hi * Hi, cbi = Ci / block
        // Each thread owns whole input planes, so every dx element has one writer.
        parallelChunks(B * cbi, minimumPerPart: max(1, (1 << 15) / (HWi * block)), threads: threads) { r in
            for bc in r {
                let b = bc / cbi, cb = bc % cbi, xb = dx + bc * HWi * block
                for j in 0..<block {
                    let c = cb * block + j + offset
                    guard c < Co else { continue }
                    for oy in 0..<Ho { for ox in 0..<Ho {
                        xb[(oy * s * Hi + ox * s) * block + j] += g[index(b, c, oy * Ho + ox, C: Co, HW: HWo)]
                    } }
                }
            }
        }
    }

    /// a ← a + b over n floats (the projection shortcut's input gradient joins the block's).
    public static func accumulate(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count n: Int,
                                  threads: Int = parallelThreadCount) {
        parallelChunks(n, threads: threads) { r in for i in r { a[i] += b[i] } }
    }
}
