// A counter-based generator (Philox4x32-10, Salmon et al., SC'11): the n-th number depends only on
// (seed, stream, n), so fills are identical on every machine and thread count, and any slice of a
// stream can be generated without generating what comes before it.
public struct Philox: Sendable {
    public let seed: UInt64
    public let stream: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// A generator for a named sub-stream, so that e.g. every layer's initialisation draws from its own
    /// stream and adding a layer does not shift the numbers of the others.
    public func substream(_ index: UInt64) -> Philox {
        Philox(seed: seed, stream: stream &* 0x9E37_79B9_7F4A_7C15 &+ index &+ 1)
    }

    /// The four 32-bit words of block `counter`.
    @inline(__always)
    public func block(_ counter: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2 = UInt32(truncatingIfNeeded: stream), c3 = UInt32(truncatingIfNeeded: stream >> 32)
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            c0 = n0; c1 = UInt32(truncatingIfNeeded: p1); c2 = n2; c3 = UInt32(truncatingIfNeeded: p0)
            k0 = k0 &+ 0x9E37_79B9; k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// Uniform in [0, 1) with 24 random bits: exactly representable, identical everywhere.
    @inline(__always)
    static func unit(_ x: UInt32) -> Float { Float(x >> 8) * (1.0 / 16_777_216.0) }

    /// Uniform in (0, 1], for logarithms.
    @inline(__always)
    static func unitOpen(_ x: UInt32) -> Double { (Double(x >> 8) + 1.0) * (1.0 / 16_777_216.0) }

    /// Fills `out` with U[low, high); element i uses word i of the stream.
    public func fillUniform(_ out: UnsafeMutableBufferPointer<Float>, low: Float = 0, high: Float = 1) {
        let n = out.count
        var i = 0
        while i < n {
            let b = block(UInt64(i / 4))
            let words = [b.0, b.1, b.2, b.3]
            for j in 0..<4 where i + j < n { out[i + j] = low + (high - low) * Philox.unit(words[j]) }
            i += 4
        }
    }

    /// Fills `out` with N(mean, std²) by Box–Muller in Float64 (libm's log/cos/sin are correctly
    /// rounded enough that results agree across glibc versions to the last float bit in practice; the
    /// conversion to Float absorbs the rest). Element pair (2k, 2k+1) uses words 2k, 2k+1.
    public func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
        let n = out.count
        var i = 0
        while i < n {
            let b = block(UInt64(i / 4))
            let pairs = [(b.0, b.1), (b.2, b.3)]
            for (p, pair) in pairs.enumerated() {
                let base = i + 2 * p
                if base >= n { break }
                let r = (-2.0 * _log(Philox.unitOpen(pair.0))).squareRoot()
                let theta = 2.0 * Double.pi * Double(Philox.unit(pair.1))
                out[base] = mean + std * Float(r * _cos(theta))
                if base + 1 < n { out[base + 1] = mean + std * Float(r * _sin(theta)) }
            }
            i += 4
        }
    }

    public func uniform(count: Int, low: Float = 0, high: Float = 1) -> [Float] {
        var a = [Float](repeating: 0, count: count)
        a.withUnsafeMutableBufferPointer { fillUniform($0, low: low, high: high) }
        return a
    }

    public func normal(count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        var a = [Float](repeating: 0, count: count)
        a.withUnsafeMutableBufferPointer { fillNormal($0, mean: mean, std: std) }
        return a
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates driven by word i of the stream).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        guard n > 1 else { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let b = block(UInt64(i))
            let r = (UInt64(b.0) << 32 | UInt64(b.1)) % UInt64(i + 1)
            p.swapAt(i, Int(r))
        }
        return p
    }
}
