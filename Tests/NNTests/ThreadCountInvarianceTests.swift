import XCTest
import Tensor
@testable import NN

/// A stage's result must not depend on how many threads ran it: the cache keys no thread count, so a
/// result computed at `-j 1` (two threads per stage here) is reused by a `-j 2` run (one each). Given one
/// engine plan, training must then give the same bits at one and two threads, in the CIFAR shapes
/// where oneDNN splits its work between threads.
final class ThreadCountInvarianceTests: XCTestCase {
    func testTrainingGivesTheSameBitsAtOneAndTwoThreads() throws {
        for block in [8, 16] {
            if let shape = try oneDNNsWeightGradientDependsOnTheThreadCount(block: block) {
                throw XCTSkip("oneDNN's backward-weights pass sums in a thread-dependent order on this CPU (block \(block), \(shape)): "
                              + "here a stage's bits depend on the thread count, whatever the plan")
            }
            for bias in [EnginePlan.BiasGradient.oneDNN, .engine] {
                ActiveEnginePlan.install(EnginePlan(block: block, biasGradient: bias), measuring: false)
                defer { ActiveEnginePlan.install(.defaults, measuring: false) }
                for norm in [Normalization.batchNorm, .none] {
                    let one = try withThreads(1) { try trainedState(norm) }
                    let two = try withThreads(2) { try trainedState(norm) }
                    let what = "block \(block), bias gradient by \(bias.rawValue), \(norm)"
                    XCTAssertEqual(one.losses.map(\.bitPattern), two.losses.map(\.bitPattern), "losses, \(what)")
                    XCTAssertEqual(one.parameters.map(\.bitPattern), two.parameters.map(\.bitPattern), "parameters, \(what)")
                    XCTAssertEqual(one.stats.map(\.bitPattern), two.stats.map(\.bitPattern), "running statistics, \(what)")
                }
            }
        }
    }

    /// `count` threads for oneDNN and for the engine's memory-bound loops, which otherwise drop to one on
    /// a machine loaded beyond its cores (`memoryBoundLoopThreads`), as while other tests run.
    private func withThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        let previous = getenv("BNREPRO_LOOP_THREADS").map { String(cString: $0) }
        setenv("BNREPRO_LOOP_THREADS", "\(count)", 1)
        defer { if let previous { setenv("BNREPRO_LOOP_THREADS", previous, 1) } else { unsetenv("BNREPRO_LOOP_THREADS") } }
        XCTAssertEqual(memoryBoundLoopThreads(), count)
        return try withOpenMPThreads(count, body)
    }

    /// The first CIFAR stage shape (batch 64) at which oneDNN's weight and bias gradients differ between
    /// one and two threads, or nil: on some CPUs its kernels may split the sum over the batch by thread.
    private func oneDNNsWeightGradientDependsOnTheThreadCount(block: Int) throws -> String? {
        let before = Blocked.block
        Blocked.use(block: block)
        defer { Blocked.use(block: before) }
        for (C, size) in [(16, 32), (32, 16), (64, 8)] {
            let B = 64, activations = B * C * size * size
            let x = FloatBuffer(Philox(seed: 1).normal(count: activations)), g = FloatBuffer(Philox(seed: 2).normal(count: activations))
            let gradients = try [1, 2].map { threads in
                try withOpenMPThreads(threads) { () -> [Float] in
                    let conv = try ConvPrimitives(context: try DNNLContext(), batch: B, inChannels: C, outChannels: C, inputSize: size,
                                                  stride: 1, hasBias: true, plainInput: false, needsDataGradient: false)
                    let dw = FloatBuffer(count: C * C * 9 + C), scratch = FloatBuffer(count: max(conv.scratchCount, 16))
                    try conv.runBackwardWeights(src: x.pointer, diffDst: g.pointer, diffWeights: dw.pointer,
                                                diffBias: dw.pointer + C * C * 9, scratch: scratch.pointer)
                    return dw.array
                }
            }
            if gradients[0].map(\.bitPattern) != gradients[1].map(\.bitPattern) { return "\(C) channels at \(size)×\(size)" }
        }
        return nil
    }

    /// The comparison above sees a last-bit difference: the two bias-gradient sums, which differ only in
    /// their order of summation, give other parameters after four steps.
    func testTheComparisonSeesTheBiasGradientsSummationOrder() throws {
        var states: [[Float]] = []
        for bias in [EnginePlan.BiasGradient.oneDNN, .engine] {
            ActiveEnginePlan.install(EnginePlan(block: 8, biasGradient: bias), measuring: false)
            defer { ActiveEnginePlan.install(.defaults, measuring: false) }
            states.append(try withOpenMPThreads(1) { try trainedState(.none) }.parameters)
        }
        XCTAssertNotEqual(states[0].map(\.bitPattern), states[1].map(\.bitPattern))
    }

    /// A depth-8 net on 32×32 images (CIFAR's shapes), trained four steps of a batch of 64 with momentum
    /// and weight decay: every pass of every layer, and the optimiser, runs more than once.
    private func trainedState(_ norm: Normalization) throws -> (losses: [Double], parameters: [Float], stats: [Float]) {
        let model = try ResNet(config: try ResNetConfig(depth: 8, normalization: norm, imageSize: 32), seed: 3)
        var trainer = Trainer(model: model, schedule: LearningRateSchedule(base: 0.05, drops: []))
        var losses: [Double] = []
        _ = try trainer.train(totalSteps: 4, next: { syntheticBatch(size: 64, imageSize: 32, seed: UInt64($0)) },
                              onStep: { _, loss in losses.append(loss) })
        return (losses, model.parameterVector(), model.runningStatsVector())
    }
}
