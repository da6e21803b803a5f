import Tensor

// The network's head on plain row-major buffers: linear layer and softmax cross-entropy.
public enum Head {
    /// logits[B, K] = feats[B, C] · w[K, C]ᵀ + bias[K]
    public static func linearForward(_ logits: UnsafeMutablePointer<Float>, _ feats: UnsafePointer<Float>,
                                     _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, B: Int, C: Int, K: Int) {
        for b in 0..<B { for k in 0..<K { logits[b * K + k] = bias[k] } }
        gemm(m: B, n: K, k: C, a: feats, b: w, transposeB: true, beta: 1, c: logits)
    }

    /// dfeats[B, C] = dlogits · w;  dw[K, C] = dlogitsᵀ · feats;  dbias[K] = Σ_b dlogits  (all overwritten)
    public static func linearBackward(_ dfeats: UnsafeMutablePointer<Float>, _ dw: UnsafeMutablePointer<Float>,
                                      _ dbias: UnsafeMutablePointer<Float>, _ dlogits: UnsafePointer<Float>,
                                      _ feats: UnsafePointer<Float>, _ w: UnsafePointer<Float>, B: Int, C: Int, K: Int) {
        gemm(m: B, n: C, k: K, a: dlogits, b: w, c: dfeats)
        gemm(m: K, n: C, k: B, a: dlogits, transposeA: true, b: feats, c: dw)
        for k in 0..<K {
            var s: Float = 0
            for b in 0..<B { s += dlogits[b * K + k] }
            dbias[k] = s
        }
    }

    /// Per-sample losses[B] = −log softmax(logits)[label] and dlogits = (softmax − onehot)/B, the gradient of
    /// the batch-mean loss. Returns the mean loss (in Float64; non-finite logits give a non-finite loss).
    public static func crossEntropy(_ losses: UnsafeMutablePointer<Float>, _ dlogits: UnsafeMutablePointer<Float>,
                                    _ logits: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>, B: Int, K: Int) -> Double {
        var total = 0.0
        for b in 0..<B {
            let row = logits + b * K
            var m = -Float.infinity
            for k in 0..<K { m = Swift.max(m, row[k]) }
            var z: Double = 0
            for k in 0..<K { z += Double(_expf(row[k] - m)) }
            let label = Int(labels[b])
            let loss = -(Double(row[label] - m) - _log(z))
            losses[b] = Float(loss)
            total += loss
            for k in 0..<K {
                dlogits[b * K + k] = Float(Double(_expf(row[k] - m)) / z / Double(B))
            }
            dlogits[b * K + label] -= 1 / Float(B)
        }
        return total / Double(B)
    }
}
