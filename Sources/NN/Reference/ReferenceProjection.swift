// The option-B projection shortcut's convolution in Float64 (NCHW): 1×1, stride s, no padding, so it
// reads the input at (y·s, x·s). Its BN is `Reference.batchNormForward`.

extension Reference {
    /// out[B, Co, Ho, Wo] = Σ_i inp[b, i, y·s, x·s] · w[o, i] + bias[o], w [Co, Ci, 1, 1]
    public static func projectionForward(_ out: inout [Double], _ inp: [Double], _ w: [Double], _ bias: [Double]?,
                                         _ B: Int, _ Ci: Int, _ H: Int, _ W: Int, _ Co: Int, _ s: Int) {
        let Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1
        out = [Double](repeating: 0, count: B * Co * Ho * Wo)
        for b in 0..<B { for o in 0..<Co { for y in 0..<Ho { for x in 0..<Wo {
            var acc = bias?[o] ?? 0
            for i in 0..<Ci { acc += inp[((b * Ci + i) * H + y * s) * W + x * s] * w[o * Ci + i] }
            out[((b * Co + o) * Ho + y) * Wo + x] = acc
        } } } }
    }

    public static func projectionBackward(_ dinp: inout [Double], _ dw: inout [Double], _ dbias: inout [Double],
                                          _ dout: [Double], _ inp: [Double], _ w: [Double],
                                          _ B: Int, _ Ci: Int, _ H: Int, _ W: Int, _ Co: Int, _ s: Int) {
        let Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1
        dinp = [Double](repeating: 0, count: B * Ci * H * W)
        dw = [Double](repeating: 0, count: Co * Ci)
        dbias = [Double](repeating: 0, count: Co)
        for b in 0..<B { for o in 0..<Co { for y in 0..<Ho { for x in 0..<Wo {
            let g = dout[((b * Co + o) * Ho + y) * Wo + x]
            dbias[o] += g
            for i in 0..<Ci {
                let ii = ((b * Ci + i) * H + y * s) * W + x * s
                dinp[ii] += g * w[o * Ci + i]
                dw[o * Ci + i] += g * inp[ii]
            }
        } } } }
    }
}
