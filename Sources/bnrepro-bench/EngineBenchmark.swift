import Foundation
import NN
import Tensor

/// Training (forward + backward + SGD step) and inference images/s for ResNet-20/56/110 with and without
/// BN at batch 128, float32, on synthetic data; peak resident memory. Thread count: OMP_NUM_THREADS
/// (oneDNN, default 2 here) and the Swift loops' 2-way split.
/// Options: --depths 20,56,110  --bn yes|no|both  --batch 128  --steps N  --warmup N  --json (one JSON line per
/// row)  --profile (time per phase)  --kernels (which oneDNN implementations run)  --plan measured|default (the
/// engine plan: measured here first, as the pipeline's workers do, or the engine before plans: nChw16c, oneDNN's
/// first choice)  --bias-gradient onednn|engine (with a measured plan: who computes the conv biases' gradient,
/// instead of the measured choice)
enum EngineBenchmark {
    struct Row: Codable {
        var model: String, depth: Int, bn: Bool, batch: Int
        var trainImagesPerSecond: Double, inferImagesPerSecond: Double, peakRSSMiB: Double
        var trainGFLOPs: Double
        /// This machine's measured float32 FMA peak on the bench's threads (the % column's denominator).
        var peakGFLOPs: Double
    }

    static func run(arguments: [String]) throws {
        var depths = [20, 56, 110], batch = 128, steps = 0, warmup = 2, json = false, kernels = false, profile = false
        var norms = [true, false], planChoice = "measured"
        var forcedBias: EnginePlan.BiasGradient?
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--depths": depths = (it.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--batch": batch = Int(it.next() ?? "") ?? batch
            case "--steps": steps = Int(it.next() ?? "") ?? steps
            case "--warmup": warmup = Int(it.next() ?? "") ?? warmup
            case "--json": json = true
            case "--kernels": kernels = true
            case "--profile": profile = true
            case "--plan": planChoice = it.next() ?? ""
            case "--bias-gradient":
                let v = it.next() ?? ""
                guard let side = EnginePlan.BiasGradient(rawValue: v) else { throw BenchError.badOption("--bias-gradient \(v)") }
                forcedBias = side
            case "--bn":
                let v = it.next() ?? ""
                norms = v == "yes" ? [true] : v == "no" ? [false] : [true, false]
            default: throw BenchError.badOption(a)
            }
        }
        setBLASThreads(2)
        let planLine: String
        switch planChoice {
        case "default":
            if let forcedBias { throw BenchError.badOption("--bias-gradient \(forcedBias.rawValue) with --plan default (the default plan is oneDNN's)") }
            ActiveEnginePlan.install(.defaults, measuring: false)
            planLine = "engine plan: default (nChw16c, oneDNN's first implementation everywhere)"
        case "measured":
            let layouts = try EnginePlanMeasurement.layoutSeconds()
            let block = EnginePlanMeasurement.chooseBlock(layouts)
            let bias = try EnginePlanMeasurement.biasGradientSeconds(block: block)
            let biasSide = forcedBias ?? EnginePlanMeasurement.chooseBiasGradient(bias)
            ActiveEnginePlan.install(EnginePlan(block: block, biasGradient: biasSide), measuring: true)
            planLine = String(format: "engine plan: measured here; nChw%dc (a 32→32 16px conv's three passes: nChw16c %.2f ms, nChw8c %.2f ms); "
                              + "conv bias gradient by %@%@ (ReLU backward + backward-weights at the 3 stage shapes, batch 128: bias by oneDNN %.2f ms, by the engine %.2f ms); "
                              + "each conv's implementation timed on first use", block, 1000 * (layouts[16] ?? 0), 1000 * (layouts[8] ?? 0),
                              biasSide.rawValue, forcedBias == nil ? "" : ", forced", 1000 * (bias[.oneDNN] ?? 0), 1000 * (bias[.engine] ?? 0))
        default: throw BenchError.badOption("--plan \(planChoice)")
        }
        let peak = PeakReference.measure(threads: 2)
        if !json {
            print("engine: batch \(batch), float32, OMP_NUM_THREADS=\(ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "unset"); "
                  + "machine shared with other jobs, numbers are noisy")
            print(String(format: "measured float32 FMA peak, %d threads × %d lanes: %.0f GFLOP/s (the %% column's denominator)",
                         peak.threads, peak.lanes, peak.gigaflops))
            print(planLine)
            print(try convolutionAlgorithms(batch: batch))
            print(pad("model", 12) + pad("BN", 5) + pad("train img/s", 13, right: true) + pad("infer img/s", 13, right: true)
                  + pad("GFLOP/s", 10, right: true) + pad("% peak", 10, right: true) + pad("peak MiB", 10, right: true))
        }
        if kernels {
            for bn in [true, false] {
                let model = try ResNet(config: try ResNetConfig(depth: 20, normalization: bn ? .batchNorm : .none), seed: 1)
                for line in try model.kernelReport(batch: batch) { print("  " + line) }
            }
        }
        for depth in depths {
            for bn in norms {
                var row = try measure(depth: depth, bn: bn, batch: batch, steps: steps, warmup: warmup, profile: profile)
                row.peakGFLOPs = peak.gigaflops
                if json {
                    let data = try JSONEncoder().encode(row)
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(pad(row.model, 12) + pad(bn ? "yes" : "no", 5)
                          + pad(String(format: "%.1f", row.trainImagesPerSecond), 13, right: true)
                          + pad(String(format: "%.1f", row.inferImagesPerSecond), 13, right: true)
                          + pad(String(format: "%.1f", row.trainGFLOPs), 10, right: true)
                          + pad(String(format: "%.0f%%", 100 * row.trainGFLOPs / peak.gigaflops), 10, right: true)
                          + pad(String(format: "%.0f", row.peakRSSMiB), 10, right: true))
                }
                fflush(stdout)
            }
        }
    }

    static func measure(depth: Int, bn: Bool, batch: Int, steps requested: Int, warmup: Int, profile: Bool) throws -> Row {
        let config = try ResNetConfig(depth: depth, normalization: bn ? .batchNorm : .none)
        let model = try ResNet(config: config, seed: 1)
        let rng = Philox(seed: 2)
        let images = rng.normal(count: batch * 3 * 32 * 32)
        let labels = (0..<batch).map { Int32($0 % 10) }
        // Not `Trainer`: an unnormalised ResNet-110's loss at initialisation is already above the divergence
        // threshold, and the benchmark must time full steps regardless. A small learning rate keeps
        // the unnormalised nets finite for the whole run.
        var sgd = SGD(parameterCount: model.parameters.count)
        let lr: Float = bn ? 0.01 : 1e-7
        func step() throws {
            try model.forward(images: images, labels: labels, mode: .training, updateRunningStats: true)
            try model.backward()
            sgd.step(model.parameters, model.gradients, learningRate: lr)
        }
        let steps = requested > 0 ? requested : max(3, 600 / depth)
        let name = "ResNet-\(depth) \(bn ? "BN" : "no BN")"
        /// Seconds for `steps` calls of `body` after `warmup` untimed ones; with --profile, the engine's
        /// phases per call too.
        func timed(_ label: String, warmup: Int, _ body: () throws -> Void) throws -> Double {
            for _ in 0..<warmup { try body() }
            model.setProfiling(profile)
            defer { model.setProfiling(false) }
            let t0 = Date()
            for _ in 0..<steps { try body() }
            let elapsed = Date().timeIntervalSince(t0)
            if profile {
                let parts = model.phaseSeconds().map { "\($0.0) \(String(format: "%.1f", 1000 * $0.1 / Double(steps))) ms" }
                print("  \(name) per \(label) \(String(format: "%.1f", 1000 * elapsed / Double(steps))) ms: " + parts.joined(separator: ", "))
            }
            return elapsed
        }
        let train = Double(steps * batch) / (try timed("step", warmup: warmup, step))
        // Inference as `evaluate` runs it: the fused path (BN folded, ReLU and residual add in the convs).
        let infer = Double(steps * batch) / (try timed("inference batch", warmup: 1) { try model.inferenceForward(images: images, labels: labels) })
        if profile {
            // The stored path (`forward(mode: .inference)`, every activation kept for the probes), for comparison.
            _ = try timed("stored-path inference batch", warmup: 1) { try model.forward(images: images, labels: labels, mode: .inference) }
        }
        return Row(model: "ResNet-\(depth)", depth: depth, bn: bn, batch: batch, trainImagesPerSecond: train,
                   inferImagesPerSecond: infer, peakRSSMiB: peakRSSMiB(),
                   trainGFLOPs: train * trainingFLOPsPerImage(config) / 1e9, peakGFLOPs: .nan)
    }

    /// Which implementations oneDNN chose for ResNet-20's convolutions, and so what the GFLOP/s column
    /// means: FLOPs are counted as direct convolution, which is "effective" only where a fast algorithm
    /// (Winograd) does fewer.
    static func convolutionAlgorithms(batch: Int) throws -> String {
        let model = try ResNet(config: try ResNetConfig(depth: 20, normalization: .batchNorm), seed: 1)
        var names = Set<String>()
        for line in try model.kernelReport(batch: batch) {
            for part in line.split(separator: ":", maxSplits: 1).last?.split(separator: ",") ?? [] {
                if let name = part.split(separator: " ").last, name != "-" { names.insert(String(name)) }
            }
        }
        let fast = names.contains { $0.contains("wino") }
        return "oneDNN convolutions: \(names.sorted().joined(separator: ", ")); GFLOP/s counts direct-convolution FLOPs"
            + (fast ? " (effective: a Winograd kernel does fewer)" : " (all kernels direct, so the count is the work done)")
    }

    /// Multiply-adds ×2 of the convolutions and the linear layer, ×3 for training (forward, backward-data,
    /// backward-weights; the first layer has no backward-data). Elementwise work is not counted.
    static func trainingFLOPsPerImage(_ config: ResNetConfig) -> Double {
        var f = 0.0
        for s in config.convLayers {
            let fwd = 2.0 * Double(s.outChannels * s.inChannels * 9 * s.outputSize * s.outputSize)
            f += fwd * (s.layer == 1 ? 2 : 3)
        }
        return f + 3 * 2.0 * Double(config.featureChannels * config.classes)
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    /// Peak resident set (VmHWM) of this process so far, in MiB.
    static func peakRSSMiB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
            return kb / 1024
        }
        return .nan
    }

    enum BenchError: Error, CustomStringConvertible {
        case badOption(String)
        var description: String {
            switch self { case .badOption(let o): return "unknown option \(o); options: --depths 20,56,110 --bn yes|no|both --batch 128 --steps N --warmup N --json --profile --kernels --plan measured|default --bias-gradient onednn|engine" }
        }
    }
}
