import Foundation
import NN
import Tensor

/// The memory-bound loops of a training step on their own (BN forward in each mode, the option-A add +
/// ReLU, the ReLU mask alone and with the conv bias's gradient, the shortcut adjoint) at the three CIFAR stage shapes, batch 128, 1 and 2
/// threads: where a loop that should stream at memory speed does not, it shows here first.
enum LoopsBenchmark {
    static func run() {
        for (C, HW) in [(16, 1024), (32, 256), (64, 64)] {
            let B = 128, n = B * C * HW
            let inp = FloatBuffer(Philox(seed: 1).normal(count: n)), out = FloatBuffer(count: n), x = FloatBuffer(Philox(seed: 3).normal(count: n))
            let g = FloatBuffer([Float](repeating: 1, count: C)), b = FloatBuffer([Float](repeating: 0, count: C))
            let m = FloatBuffer([Float](repeating: 0, count: C)), v = FloatBuffer([Float](repeating: 1, count: C))
            for threads in [1, 2] {
                var t0 = Date()
                for _ in 0..<20 { Blocked.addShortcutRelu(out.pointer, UnsafePointer(inp.pointer), UnsafePointer(x.pointer), B: B, Ci: C, Hi: Int(Double(HW).squareRoot()), Co: C, stride: 1, threads: threads) }
                var dt = Date().timeIntervalSince(t0) / 20
                print(String(format: "C %d HW %d addShortcutRelu threads %d: %.2f ms", C, HW, threads, dt * 1000))
                t0 = Date()
                for _ in 0..<20 { Blocked.reluMask(x.pointer, UnsafePointer(out.pointer), count: n, threads: threads) }
                dt = Date().timeIntervalSince(t0) / 20
                print(String(format: "C %d HW %d reluMask threads %d: %.2f ms", C, HW, threads, dt * 1000))
                t0 = Date()
                for _ in 0..<20 { Blocked.reluMaskChannelSums(x.pointer, UnsafePointer(out.pointer), sums: b.pointer, B: B, C: C, HW: HW, threads: threads) }
                dt = Date().timeIntervalSince(t0) / 20
                print(String(format: "C %d HW %d reluMaskChannelSums threads %d: %.2f ms", C, HW, threads, dt * 1000))
                t0 = Date()
                for _ in 0..<20 { Blocked.addShortcutBackward(x.pointer, UnsafePointer(inp.pointer), B: B, Ci: C, Hi: Int(Double(HW).squareRoot()), Co: C, stride: 1, threads: threads) }
                dt = Date().timeIntervalSince(t0) / 20
                print(String(format: "C %d HW %d addShortcutBackward threads %d: %.2f ms", C, HW, threads, dt * 1000))
            }
            for (name, training, res) in [("inference", false, false), ("inference+res", false, true), ("training", true, false)] {
                for threads in [1, 2] {
                    let r = res ? BatchNorm.Residual(x: UnsafePointer(x.pointer), channels: C, size: Int(Double(HW).squareRoot()), stride: 1) : nil
                    let t0 = Date()
                    for _ in 0..<20 {
                        BatchNorm.forward(out.pointer, m.pointer, v.pointer, UnsafePointer(inp.pointer), UnsafePointer(g.pointer), UnsafePointer(b.pointer),
                                          B: B, C: C, HW: HW, epsilon: 1e-5, training: training, relu: true, residual: r, threads: threads)
                    }
                    let dt = Date().timeIntervalSince(t0) / 20
                    print(String(format: "C %d HW %d %@ threads %d: %.2f ms, %.1f GB/s (read+write)", C, HW, name, threads, dt * 1000, Double(n * 8) / dt / 1e9))
                }
            }
        }
    }
}
