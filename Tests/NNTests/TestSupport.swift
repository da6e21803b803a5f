import Foundation
import Tensor
@testable import NN

func randomDoubles(_ n: Int, seed: UInt64, scale: Float = 1) -> [Double] {
    Philox(seed: seed).normal(count: n, std: scale).map(Double.init)
}

func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "lengths \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

/// Largest |analytic − numeric| / (|numeric| + 1e-6 + 1e-3·max|numeric|) over `indices`, with central
/// differences of a scalar function in Float64.
func finiteDifferenceError(_ x: [Double], _ analytic: [Double], indices: [Int], h: Double = 1e-5,
                           _ f: ([Double]) -> Double) -> Double {
    var worst = 0.0
    var numeric: [Double] = []
    for i in indices {
        var xp = x, xm = x
        xp[i] += h; xm[i] -= h
        numeric.append((f(xp) - f(xm)) / (2 * h))
    }
    let scale = maxAbs(numeric)
    for (k, i) in indices.enumerated() {
        let err = abs(analytic[i] - numeric[k]) / (abs(numeric[k]) + 1e-6 + 1e-3 * scale)
        worst = max(worst, err)
    }
    return worst
}

func sampleIndices(_ n: Int, count: Int, seed: UInt64) -> [Int] {
    if n <= count { return Array(0..<n) }
    return Array(Philox(seed: seed).permutation(n).prefix(count))
}

/// NCHW Float → nChw16c Float buffer.
func blocked(_ x: [Double], B: Int, C: Int, HW: Int) -> FloatBuffer {
    let f = x.map(Float.init)
    let out = FloatBuffer(count: f.count)
    f.withUnsafeBufferPointer { Blocked.fromNCHW(out.pointer, $0.baseAddress!, B: B, C: C, HW: HW) }
    return out
}

func unblocked(_ x: FloatBuffer, B: Int, C: Int, HW: Int) -> [Double] {
    var out = [Float](repeating: 0, count: B * C * HW)
    out.withUnsafeMutableBufferPointer { Blocked.toNCHW($0.baseAddress!, x.pointer, B: B, C: C, HW: HW) }
    return out.map(Double.init)
}

/// Runs `body` with `BNREPRO_CONV_LAYOUT` set (see `ConvLayoutChoice`), restoring it afterwards.
func withConvLayout(_ layout: String, _ body: () throws -> Void) rethrows {
    let previous = ProcessInfo.processInfo.environment["BNREPRO_CONV_LAYOUT"]
    setenv("BNREPRO_CONV_LAYOUT", layout, 1)
    defer { if let previous { setenv("BNREPRO_CONV_LAYOUT", previous, 1) } else { unsetenv("BNREPRO_CONV_LAYOUT") } }
    try body()
}

/// Runs `body` with the activations blocked by `block` channels (8: nChw8c, AVX2's layout; 16: nChw16c),
/// then restores the layout and the default plan. Networks built inside must not outlive it.
func withBlock(_ block: Int, _ body: () throws -> Void) rethrows {
    ActiveEnginePlan.install(EnginePlan(block: block), measuring: false)
    defer { ActiveEnginePlan.install(.defaults, measuring: false) }
    try body()
}
