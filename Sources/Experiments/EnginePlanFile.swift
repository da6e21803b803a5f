import AtomicIO
import Foundation
import NN
import Pipeline
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// The machine's engine plan: `~/.cache/bnrepro/engine-plans/<machine>.json` (`$XDG_CACHE_HOME` if set,
/// or the directory `BNREPRO_ENGINE_PLANS` names), one file per CPU model and oneDNN version. Per machine,
/// not per pipeline cache or thread count, so that every stage on a machine computes with one plan: the
/// plan decides the bits (each choice sums in its own order), and a stage must give the same bits at any
/// `-j`, since the cache keys no thread count and serves a `-j 1` result to a `-j 2` run. With one plan,
/// training is bit-identical at one and two threads (`ThreadCountInvarianceTests`). It is measured once,
/// with the thread count of the worker that made it (`threads`; the layout when the file is made, each
/// convolution when a stage first makes it), and read by every later worker. Deleting it makes the next
/// run measure again; results already cached keep the plan their records name.
public struct EnginePlanFile: Codable, Equatable {
    public var cpu: String
    public var oneDNN: String
    /// The OpenMP thread count of the worker that made the file, which its layout and bias-gradient
    /// timings ran with (a later worker's convolution timings run with its own).
    public var threads: Int
    public var plan: EnginePlan
    /// Seconds of the layout measurement, by block (`EnginePlanMeasurement.layoutSeconds`).
    public var layoutSeconds: [String: Double]
    /// Seconds per call of each implementation timed, by convolution key.
    public var measurements: [String: [String: Double]]
    /// Seconds of the bias-gradient measurement, by side (`EnginePlanMeasurement.biasGradientSeconds`);
    /// nil in a file from before the choice existed, which the next worker completes.
    public var biasGradientSeconds: [String: Double]?

    public init(cpu: String, oneDNN: String, threads: Int, plan: EnginePlan, layoutSeconds: [String: Double],
                measurements: [String: [String: Double]], biasGradientSeconds: [String: Double]? = nil) {
        self.cpu = cpu; self.oneDNN = oneDNN; self.threads = threads; self.plan = plan
        self.layoutSeconds = layoutSeconds; self.measurements = measurements; self.biasGradientSeconds = biasGradientSeconds
    }

    /// The file's name on this machine: what it is keyed by, in a file-system-safe spelling.
    public static func name(cpu: String, oneDNN: String) -> String {
        let raw = "\(cpu) onednn-\(oneDNN)"
        let safe = raw.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        return String(safe) + ".json"
    }

    /// Where this machine's plans live; `cache` (a pipeline cache) only where there is no home directory,
    /// and nowhere when there is neither.
    public static func directory(cache: URL?, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let dir = environment["BNREPRO_ENGINE_PLANS"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("bnrepro/engine-plans")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".cache/bnrepro/engine-plans")
        }
        return cache?.appendingPathComponent("engine-plans")
    }

    static var machine: (cpu: String, oneDNN: String, threads: Int) {
        (CPUModel.identity ?? "unknown CPU", oneDNNVersion, WorkerThreads.count())
    }

    public static func url(cache: URL?) -> URL? {
        let m = machine
        return directory(cache: cache)?.appendingPathComponent(name(cpu: m.cpu, oneDNN: m.oneDNN))
    }

    public static func read(_ url: URL) throws -> EnginePlanFile? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(EnginePlanFile.self, from: Data(contentsOf: url))
        } catch {
            throw EnginePlanError("the engine plan \(url.path) cannot be read (\(error)); delete it and the next run measures a new one")
        }
    }

    /// The machine's plan as the file has it, made first if there is none (the layout and the bias
    /// gradient's side measured now), or completed if it predates the bias-gradient choice. Under the
    /// file's lock: workers started together take one plan, measured by one of them on a quiet machine.
    static func machinePlan(at url: URL, measureLayout: () throws -> EnginePlanFile = EnginePlanSetup.measuredLayout,
                            measureBias: (Int) throws -> BiasGradientChoice = BiasGradientChoice.measure) throws -> EnginePlanFile {
        try locked(url) {
            if var file = try read(url) {
                if file.plan.biasGradient == nil {
                    let choice = try measureBias(file.plan.block)
                    file.plan.biasGradient = choice.choice
                    file.biasGradientSeconds = choice.seconds
                    try write(file, to: url)
                }
                return file
            }
            let made = try measureLayout()
            try write(made, to: url)
            return made
        }
    }

    /// The machine's choice for `key`: the file's, or else the one `measure` makes now, written to the file
    /// at once. The lock is held while measuring, so a worker that meets the key meanwhile waits and takes
    /// this choice rather than timing its own (on a machine busy with the first worker's measurement).
    static func choice(for key: String, in url: URL, _ make: () throws -> EnginePlanFile,
                       measure: () throws -> ActiveEnginePlan.Measured) throws -> String {
        try locked(url) {
            var file = try read(url) ?? make()
            if let kept = file.plan.convolutions[key] { return kept }
            let measured = try measure()
            file.plan.convolutions[key] = measured.choice
            file.measurements[key] = measured.seconds
            try write(file, to: url)
            return measured.choice
        }
    }

    /// Runs `body` holding the file's lock (`<file>.lock`, flock): workers on the machine take turns.
    private static func locked<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lockPath = url.path + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR, 0o666)
        guard fd >= 0 else { throw EnginePlanError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0, errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private static func write(_ file: EnginePlanFile, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(file), to: url)
    }
}

/// Who computes a conv bias's gradient on this machine, and the measurement that chose it.
struct BiasGradientChoice {
    let choice: EnginePlan.BiasGradient
    let seconds: [String: Double]

    static func measure(_ block: Int) throws -> BiasGradientChoice {
        let seconds = try EnginePlanMeasurement.biasGradientSeconds(block: block)
        return BiasGradientChoice(choice: EnginePlanMeasurement.chooseBiasGradient(seconds),
                                  seconds: Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.rawValue, $0.value) }))
    }
}

/// The engine set-up `bnrepro exec` runs before each stage (`EngineSetup`).
public enum EnginePlanSetup {
    public static let setup = EngineSetup(prepare: prepare, finish: finish)

    static func prepare(cache: URL) throws {
        let requested = ProcessInfo.processInfo.environment[EngineSetup.environmentVariable] ?? "measured"
        switch requested {
        case "default":
            ActiveEnginePlan.install(.defaults, measuring: false)
        case "measured", "":
            guard let url = EnginePlanFile.url(cache: cache) else {
                ActiveEnginePlan.install(try measuredLayout().plan, measuring: true)
                break
            }
            let file = try EnginePlanFile.machinePlan(at: url)
            ActiveEnginePlan.install(file.plan, measuring: true, sharing: { key, measure in
                try EnginePlanFile.choice(for: key, in: url, { file }, measure: measure)
            })
        default:
            do {
                ActiveEnginePlan.install(try EnginePlan(json: requested), measuring: false)
            } catch {
                throw EnginePlanError("\(EngineSetup.environmentVariable) is neither \"default\", \"measured\" nor an engine plan's JSON: \(error)")
            }
        }
    }

    /// The plan the stage ran with, for its record (each choice it measured is already in the machine's file).
    static func finish(cache: URL) -> String? {
        ActiveEnginePlan.wasUsed ? ActiveEnginePlan.current.json : nil
    }

    /// For a measurement outside a stage (`estimate`'s engine calibration): this machine's plan if one is
    /// kept, else a layout measured now; nothing is written.
    static func installMachinePlan() throws {
        // Outside a pipeline there is no cache to fall back on: without a home directory, measure.
        let kept = try EnginePlanFile.url(cache: nil).flatMap(EnginePlanFile.read)
        var plan = try kept?.plan ?? EnginePlan(block: EnginePlanMeasurement.chooseBlock(EnginePlanMeasurement.layoutSeconds()))
        if plan.biasGradient == nil { plan.biasGradient = try BiasGradientChoice.measure(plan.block).choice }
        ActiveEnginePlan.install(plan, measuring: true)
    }

    static func measuredLayout() throws -> EnginePlanFile {
        let seconds = try EnginePlanMeasurement.layoutSeconds()
        let block = EnginePlanMeasurement.chooseBlock(seconds)
        let bias = try BiasGradientChoice.measure(block)
        let m = EnginePlanFile.machine
        return EnginePlanFile(cpu: m.cpu, oneDNN: m.oneDNN, threads: m.threads,
                              plan: EnginePlan(block: block, biasGradient: bias.choice),
                              layoutSeconds: Dictionary(uniqueKeysWithValues: seconds.map { ("nChw\($0.key)c", $0.value) }),
                              measurements: [:], biasGradientSeconds: bias.seconds)
    }
}
