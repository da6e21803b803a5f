import Foundation

/// How this process's engine computes: the activations' block (16 or 8 channels) and, for each
/// convolution shape and pass, which of oneDNN's implementations runs it. Chosen by measurement on the
/// machine (`EnginePlanMeasurement`), kept in a per-machine file by the caller, and recorded in each
/// action record so that a recomputation uses the same plan and gets the same bits.
///
/// Every implementation a plan can name computes a direct convolution (oneDNN's JIT kernels, or its
/// im2col + GEMM); Winograd is not a candidate (README, "Engine plan").
public struct EnginePlan: Codable, Equatable, Sendable {
    /// Channels per block of the activations' layout: 16 (nChw16c) or 8 (nChw8c).
    public var block: Int
    /// Implementation name (oneDNN's `impl_info_str`) by convolution key (`ConvKey`).
    public var convolutions: [String: String]
    /// Who computes a conv bias's gradient (the nets without BN): nil, as in every plan from before the
    /// choice existed, is oneDNN.
    public var biasGradient: BiasGradient?

    /// Who computes the gradient of a conv's bias. The two sum in different orders, so they differ in the
    /// last bits; a recomputation takes its record's choice.
    public enum BiasGradient: String, Codable, Sendable {
        /// oneDNN's backward-weights pass, alongside the weights' gradient.
        case oneDNN = "onednn"
        /// The engine, fused into the ReLU's backward pass (`Blocked.reluMaskChannelSums`).
        case engine
    }

    public init(block: Int, convolutions: [String: String] = [:], biasGradient: BiasGradient? = nil) {
        self.block = block
        self.convolutions = convolutions
        self.biasGradient = biasGradient
    }

    /// Whether the engine computes a conv bias's gradient (`BiasGradient.engine`).
    public var biasGradientByEngine: Bool { biasGradient == .engine }

    /// The engine before plans existed: nChw16c and oneDNN's first choice everywhere, nothing measured.
    public static let defaults = EnginePlan(block: 16)

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(EnginePlan.self, from: Data(json.utf8))
        guard block == 8 || block == 16 else {
            throw EnginePlanError("an engine plan's block is 8 or 16 channels, not \(block)")
        }
    }
}

public struct EnginePlanError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The plan this process runs with. `install` sets it before any network is built; with `measuring`,
/// a convolution key the plan lacks is measured when its primitives are made and added (`chosen` then
/// returns the grown plan, for the caller to keep and record).
public enum ActiveEnginePlan {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var plan = EnginePlan.defaults
    nonisolated(unsafe) private static var measuring = false
    /// The implementations oneDNN offered for each key made since `install`, in its order.
    nonisolated(unsafe) private static var offeredByKey: [String: [String]] = [:]

    /// Where a choice is shared with the other processes on the machine: given a key, the choice already
    /// made for it, or the one `measure` makes, which it then keeps for them (`EnginePlanFile`).
    public typealias SharedChoice = (_ key: String, _ measure: () throws -> Measured) throws -> String
    /// One key's measurement: the chosen implementation and each candidate's seconds per call.
    public struct Measured {
        public let choice: String
        public let seconds: [String: Double]
        public init(choice: String, seconds: [String: Double]) { self.choice = choice; self.seconds = seconds }
    }
    nonisolated(unsafe) private static var shared: SharedChoice?

    /// With `sharing`, a key the plan lacks takes the machine's choice, so that stages started together
    /// on an empty plan compute with one choice (each measuring its own, timing noise could part them).
    public static func install(_ newPlan: EnginePlan, measuring measure: Bool, sharing: SharedChoice? = nil) {
        lock.lock(); defer { lock.unlock() }
        plan = newPlan
        measuring = measure
        shared = sharing
        offeredByKey = [:]
        Blocked.use(block: newPlan.block)
    }

    /// The plan as it stands, with what this process measured or took from the machine's choices.
    public static var current: EnginePlan { lock.lock(); defer { lock.unlock() }; return plan }
    public static var offered: [String: [String]] { lock.lock(); defer { lock.unlock() }; return offeredByKey }
    /// Whether a convolution was made since `install`: the process ran a network.
    public static var wasUsed: Bool { lock.lock(); defer { lock.unlock() }; return !offeredByKey.isEmpty }

    /// The implementation for `key` among `candidates` (oneDNN's order, first = its own choice): the
    /// plan's if it names one of them; else, when measuring, the fastest by `time` (added to the plan);
    /// else oneDNN's first.
    static func choose(key: String, candidates: [String], time: (Int) throws -> Double) rethrows -> Int {
        lock.lock()
        let named = plan.convolutions[key], measure = measuring, sharing = shared
        offeredByKey[key] = candidates
        lock.unlock()
        if let named, let i = candidates.firstIndex(of: named) { return i }
        guard measure, candidates.count > 1 else { return 0 }
        func timeEach() throws -> Measured {
            let seconds = try candidates.indices.map { try time($0) }
            // oneDNN's own choice stays unless another is clearly faster (5 %): timings jitter by a few per cent.
            var best = 0
            for i in seconds.indices where seconds[i] < 0.95 * seconds[best] { best = i }
            return Measured(choice: candidates[best], seconds: Dictionary(uniqueKeysWithValues: zip(candidates, seconds)))
        }
        let choice = try sharing.map { try $0(key, timeEach) } ?? timeEach().choice
        // A choice made elsewhere that oneDNN does not offer here (another build) falls back to its first.
        let index = candidates.firstIndex(of: choice) ?? 0
        lock.lock()
        plan.convolutions[key] = candidates[index]
        lock.unlock()
        return index
    }
}
