/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast generator whose output depends only on its seed.
/// Our own, rather than the standard library's shuffling and `random(in:using:)`, whose algorithms may
/// change between Swift releases: a subset or an augmentation must be the same on every toolchain.
public struct SeededRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A seed for one purpose derived from a base seed and labels (epoch, batch, ...), so that streams for
    /// different purposes never overlap and each can be recreated on its own.
    public init(seed: UInt64, _ labels: UInt64...) {
        var s = SeededRNG.mix(seed ^ 0x9E37_79B9_7F4A_7C15)
        for l in labels { s = SeededRNG.mix(s ^ SeededRNG.mix(l &+ 0xD1B5_4A32_D192_ED03)) }
        state = s
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SeededRNG.mix(state)
    }

    /// Uniform in 0..<n by multiply-high (Lemire); the bias, below 2^-40 for our n, is immaterial here.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Fisher–Yates, written out so that the permutation for a seed never changes.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, below(i + 1))
        }
    }

    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
