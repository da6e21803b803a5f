// The slow, obvious Float64 reference of every layer (NCHW, row-major), llm.c style: outputs first,
// then inputs, then sizes; what forward saves for backward is an explicit argument. Tests check the
// fast path against these and these against central finite differences.

import Tensor

public enum Reference {
    /// out[B, Co, Ho, Wo] = conv3x3(inp[B, Ci, H, W], w[Co, Ci, 3, 3], pad 1, stride s) + bias[Co]
    public static func convForward(_ out: inout [Double], _ inp: [Double], _ w: [Double], _ bias: [Double]?,
                                   _ B: Int, _ Ci: Int, _ H: Int, _ W: Int, _ Co: Int, _ s: Int) {
        let Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1
        out = [Double](repeating: 0, count: B * Co * Ho * Wo)
        for b in 0..<B { for o in 0..<Co { for y in 0..<Ho { for x in 0..<Wo {
            var acc = bias?[o] ?? 0
            for i in 0..<Ci { for ky in 0..<3 { for kx in 0..<3 {
                let iy = y * s + ky - 1, ix = x * s + kx - 1
                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                acc += inp[((b * Ci + i) * H + iy) * W + ix] * w[((o * Ci + i) * 3 + ky) * 3 + kx]
            } } }
            out[((b * Co + o) * Ho + y) * Wo + x] = acc
        } } } }
    }

    public static func convBackward(_ dinp: inout [Double], _ dw: inout [Double], _ dbias: inout [Double],
                                    _ dout: [Double], _ inp: [Double], _ w: [Double],
                                    _ B: Int, _ Ci: Int, _ H: Int, _ W: Int, _ Co: Int, _ s: Int) {
        let Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1
        dinp = [Double](repeating: 0, count: B * Ci * H * W)
        dw = [Double](repeating: 0, count: Co * Ci * 9)
        dbias = [Double](repeating: 0, count: Co)
        for b in 0..<B { for o in 0..<Co { for y in 0..<Ho { for x in 0..<Wo {
            let g = dout[((b * Co + o) * Ho + y) * Wo + x]
            dbias[o] += g
            for i in 0..<Ci { for ky in 0..<3 { for kx in 0..<3 {
                let iy = y * s + ky - 1, ix = x * s + kx - 1
                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                let ii = ((b * Ci + i) * H + iy) * W + ix, wi = ((o * Ci + i) * 3 + ky) * 3 + kx
                dinp[ii] += g * w[wi]
                dw[wi] += g * inp[ii]
            } } }
        } } } }
    }

    /// Training-mode BN over (batch, space) per channel; saves mean and rstd = 1/sqrt(var + eps)
    /// (biased variance, as in the normalisation itself).
    public static func batchNormForward(_ out: inout [Double], _ mean: inout [Double], _ rstd: inout [Double],
                                        _ inp: [Double], _ gamma: [Double], _ beta: [Double],
                                        _ B: Int, _ C: Int, _ HW: Int, _ eps: Double) {
        out = [Double](repeating: 0, count: inp.count)
        mean = [Double](repeating: 0, count: C)
        rstd = [Double](repeating: 0, count: C)
        let n = Double(B * HW)
        for c in 0..<C {
            var m = 0.0
            for b in 0..<B { for p in 0..<HW { m += inp[(b * C + c) * HW + p] } }
            m /= n
            var v = 0.0
            for b in 0..<B { for p in 0..<HW { let d = inp[(b * C + c) * HW + p] - m; v += d * d } }
            v /= n
            let r = 1.0 / (v + eps).squareRoot()
            mean[c] = m; rstd[c] = r
            for b in 0..<B { for p in 0..<HW {
                let i = (b * C + c) * HW + p
                out[i] = gamma[c] * (inp[i] - m) * r + beta[c]
            } }
        }
    }

    public static func batchNormBackward(_ dinp: inout [Double], _ dgamma: inout [Double], _ dbeta: inout [Double],
                                         _ dout: [Double], _ inp: [Double], _ gamma: [Double],
                                         _ mean: [Double], _ rstd: [Double], _ B: Int, _ C: Int, _ HW: Int) {
        dinp = [Double](repeating: 0, count: inp.count)
        dgamma = [Double](repeating: 0, count: C)
        dbeta = [Double](repeating: 0, count: C)
        let n = Double(B * HW)
        for c in 0..<C {
            var sumG = 0.0, sumGX = 0.0
            for b in 0..<B { for p in 0..<HW {
                let i = (b * C + c) * HW + p
                let xhat = (inp[i] - mean[c]) * rstd[c]
                sumG += dout[i]; sumGX += dout[i] * xhat
            } }
            dgamma[c] = sumGX; dbeta[c] = sumG
            for b in 0..<B { for p in 0..<HW {
                let i = (b * C + c) * HW + p
                let xhat = (inp[i] - mean[c]) * rstd[c]
                dinp[i] = gamma[c] * rstd[c] * (dout[i] - sumG / n - xhat * sumGX / n)
            } }
        }
    }

    public static func reluForward(_ out: inout [Double], _ inp: [Double]) { out = inp.map { max($0, 0) } }

    /// Uses the forward output: the gradient passes where out > 0.
    public static func reluBackward(_ dinp: inout [Double], _ dout: [Double], _ out: [Double]) {
        dinp = zip(dout, out).map { $1 > 0 ? $0 : 0 }
    }

    /// Option-A shortcut: out[b, c + offset, y, x] = inp[b, c, y·s, x·s] for c < Ci, zeros in the other
    /// Co − Ci channels. offset 0: the input channels first, zero channels appended (He et al.);
    /// (Co − Ci)/2: the zeros split evenly before and after (option A-split).
    public static func shortcutForward(_ out: inout [Double], _ inp: [Double],
                                       _ B: Int, _ Ci: Int, _ H: Int, _ W: Int, _ Co: Int, _ s: Int, offset: Int = 0) {
        let Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1
        out = [Double](repeating: 0, count: B * Co * Ho * Wo)
        for b in 0..<B { for c in 0..<Ci { for y in 0..<Ho { for x in 0..<Wo {
            out[((b * Co + c + offset) * Ho + y) * Wo + x] = inp[((b * Ci + c) * H + y * s) * W + x * s]
        } } } }
    }

    public static func shortcutBackward(_ dinp: inout [Double], _ dout: [Double],
                                        _ B: Int, _ Ci: Int, _ H: Int, _ W: Int, _ Co: Int, _ s: Int, offset: Int = 0) {
        let Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1
        dinp = [Double](repeating: 0, count: B * Ci * H * W)
        for b in 0..<B { for c in 0..<Ci { for y in 0..<Ho { for x in 0..<Wo {
            dinp[((b * Ci + c) * H + y * s) * W + x * s] = dout[((b * Co + c + offset) * Ho + y) * Wo + x]
        } } } }
    }

    /// out[B, C] = mean over HW of inp[B, C, HW]
    public static func poolForward(_ out: inout [Double], _ inp: [Double], _ B: Int, _ C: Int, _ HW: Int) {
        out = [Double](repeating: 0, count: B * C)
        for i in 0..<(B * C) { var s = 0.0; for p in 0..<HW { s += inp[i * HW + p] }; out[i] = s / Double(HW) }
    }

    public static func poolBackward(_ dinp: inout [Double], _ dout: [Double], _ B: Int, _ C: Int, _ HW: Int) {
        dinp = [Double](repeating: 0, count: B * C * HW)
        for i in 0..<(B * C) { for p in 0..<HW { dinp[i * HW + p] = dout[i] / Double(HW) } }
    }

    /// out[B, O] = inp[B, I] · w[O, I]ᵀ + bias[O]
    public static func linearForward(_ out: inout [Double], _ inp: [Double], _ w: [Double], _ bias: [Double],
                                     _ B: Int, _ I: Int, _ O: Int) {
        out = [Double](repeating: 0, count: B * O)
        for b in 0..<B { for o in 0..<O {
            var acc = bias[o]
            for i in 0..<I { acc += inp[b * I + i] * w[o * I + i] }
            out[b * O + o] = acc
        } }
    }

    public static func linearBackward(_ dinp: inout [Double], _ dw: inout [Double], _ dbias: inout [Double],
                                      _ dout: [Double], _ inp: [Double], _ w: [Double], _ B: Int, _ I: Int, _ O: Int) {
        dinp = [Double](repeating: 0, count: B * I)
        dw = [Double](repeating: 0, count: O * I)
        dbias = [Double](repeating: 0, count: O)
        for b in 0..<B { for o in 0..<O {
            let g = dout[b * O + o]
            dbias[o] += g
            for i in 0..<I { dinp[b * I + i] += g * w[o * I + i]; dw[o * I + i] += g * inp[b * I + i] }
        } }
    }

    /// Per-sample losses[B] = −log softmax(logits)[label]; returns their mean. Saves probs[B, K].
    public static func crossEntropyForward(_ losses: inout [Double], _ probs: inout [Double],
                                           _ logits: [Double], _ labels: [Int], _ B: Int, _ K: Int) -> Double {
        losses = [Double](repeating: 0, count: B)
        probs = [Double](repeating: 0, count: B * K)
        for b in 0..<B {
            let row = logits[(b * K)..<(b * K + K)]
            let m = row.max() ?? 0
            let z = row.reduce(0.0) { $0 + _exp($1 - m) }
            for k in 0..<K { probs[b * K + k] = _exp(logits[b * K + k] - m) / z }
            losses[b] = -(logits[b * K + labels[b]] - m - _log(z))
        }
        return losses.reduce(0, +) / Double(B)
    }

    /// ∂(mean loss)/∂logits = (probs − onehot) / B
    public static func crossEntropyBackward(_ dlogits: inout [Double], _ probs: [Double], _ labels: [Int],
                                            _ B: Int, _ K: Int) {
        dlogits = probs.map { $0 / Double(B) }
        for b in 0..<B { dlogits[b * K + labels[b]] -= 1.0 / Double(B) }
    }
}
