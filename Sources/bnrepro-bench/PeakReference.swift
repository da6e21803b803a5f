import CPeak
import Foundation

/// The denominator of the engine's "% peak" column: this machine's float32 FMA throughput, measured with
/// 12 independent FMA chains per thread on the widest vectors the CPU has (Sources/CPeak), one thread
/// per core used. A nominal peak (cores × FLOP/cycle × clock) needs the FMA width and the clock under
/// load, which the bench cannot know: the previous column divided by a nominal 234 GFLOP/s and printed
/// up to 167 %. Measured, the share cannot pass 100 % by a wrong guess.
enum PeakReference {
    struct Peak { let gigaflops: Double; let lanes: Int; let threads: Int }

    static func measure(threads: Int, iterations: Int = 200_000_000, repeats: Int = 3) -> Peak {
        var best = 0.0, lanes: Int32 = 0
        for _ in 0..<repeats {
            let flops = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
            defer { flops.deallocate() }
            var width = [Int32](repeating: 0, count: threads)
            let t0 = Date()
            width.withUnsafeMutableBufferPointer { w in
                guard let lanesOut = w.baseAddress else { return }
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    flops[t] = bnrepro_fma_flops(iterations, lanesOut + t)
                }
            }
            best = max(best, flops.reduce(0, +) / Date().timeIntervalSince(t0) / 1e9)
            lanes = width[0]
        }
        return Peak(gigaflops: best, lanes: Int(lanes), threads: threads)
    }
}
