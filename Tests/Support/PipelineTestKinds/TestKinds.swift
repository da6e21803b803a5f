import ArrayFormats
import Foundation
import Pipeline

/// Small stage kinds for the pipeline's tests. Each run appends the stage name to the file named by
/// $BNREPRO_TEST_COUNTER, so a test can count executions across processes.
public enum TestKinds {
    public static var registry: KindRegistry {
        KindRegistry([WriteKind(), ConcatKind(), FailKind(), SleepKind(), TensorsKind(), HoldKind(), DriftKind(), StepsKind(), SpinKind(), SlowSumKind(),
                      AllocKind()])
    }

    static func count(_ context: StageContext) {
        guard let path = ProcessInfo.processInfo.environment["BNREPRO_TEST_COUNTER"], !path.isEmpty else { return }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        let line = context.stage + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// Writes `text` (and the params it was given) into `out.txt`.
public struct WriteKind: StageKind {
    public let name = "test-write"
    public let version = 1
    public let parameters = [ParameterSpec("text", .string), ParameterSpec("repeat", .integer, default: 1),
                             ParameterSpec("bn", .boolean, default: false), ParameterSpec("lr", .number, default: 0.1)]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        let text = String(repeating: try context.string("text"), count: try context.int("repeat"))
        print("writing \(text.count) characters")
        try Data(text.utf8).write(to: context.output("out.txt"))
        try Data(JSONValue.object(context.params).canonicalText.utf8).write(to: context.output("params.json"))
    }
}

/// Joins the `out.txt` of every dependency, in dependency order.
public struct ConcatKind: StageKind {
    public let name = "test-concat"
    public let version = 1
    public let parameters = [ParameterSpec("separator", .string, default: "+")]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        let parts = try context.inputs.map { try String(contentsOf: $0.file("out.txt", for: context.stage), encoding: .utf8) }
        try Data(parts.joined(separator: try context.string("separator")).utf8).write(to: context.output("out.txt"))
    }
}

/// Writes `weights.safetensors`: metadata {"note": note}, a float32 `w` of shape (2, 3) holding 1…6
/// times `scale`, and a float64 scalar `b` = -scale.
public struct TensorsKind: StageKind {
    public let name = "test-tensors"
    public let version = 1
    public let parameters = [ParameterSpec("scale", .number, default: 1), ParameterSpec("note", .string, default: "test")]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        let scale = try context.double("scale")
        var file = SafeTensorsFile(metadata: ["note": try context.string("note")])
        file.tensors["w"] = try SafeTensor(float32: (1...6).map { Float(Double($0) * scale) }, shape: [2, 3])
        file.tensors["b"] = try SafeTensor(float64: [-scale], shape: [])
        try SafeTensors.write(file, to: context.output("weights.safetensors"))
    }
}

public struct FailKind: StageKind {
    public struct Failure: Error, CustomStringConvertible { public let description: String }
    public let name = "test-fail"
    public let version = 1
    public let parameters = [ParameterSpec("message", .string, default: "deliberate failure")]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        print("about to fail")
        throw Failure(description: try context.string("message"))
    }
}

/// Sleeps in small steps, reporting progress, then writes `out.txt`. If $BNREPRO_TEST_STARTED is
/// set, writes the worker's pid there first so a test knows the stage is under way.
public struct SleepKind: StageKind {
    public let name = "test-sleep"
    public let version = 1
    public let parameters = [ParameterSpec("seconds", .number), ParameterSpec("text", .string, default: "slept")]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        if let marker = ProcessInfo.processInfo.environment["BNREPRO_TEST_STARTED"] {
            FileManager.default.createFile(atPath: marker, contents: Data("\(getpid())".utf8))
        }
        let seconds = try context.double("seconds")
        let steps = max(1, Int(seconds * 10))
        for i in 0..<steps {
            Thread.sleep(forTimeInterval: seconds / Double(steps))
            context.progress("step \(i + 1)/\(steps)", fraction: Double(i + 1) / Double(steps))
        }
        try Data(try context.string("text").utf8).write(to: context.output("out.txt"))
    }
}

/// Holds its stage until the test says so: writes the worker's pid to $BNREPRO_TEST_STARTED, then waits until the
/// file named by $BNREPRO_TEST_RELEASE exists, then writes `out.txt`. Tests that kill or interrupt a
/// stage mid-way use it instead of a stage of fixed length, so no clock decides whether they pass.
/// `ignoreTerm` makes the worker ignore SIGTERM, as a stage stuck in a long computation might; with
/// `readInput` it appends its first input's `out.txt`, read after the release.
/// It writes nothing to stdout while it waits: a worker whose runner was killed must not die of SIGPIPE.
public struct HoldKind: StageKind {
    public struct NeverReleased: Error, CustomStringConvertible { public let description: String }
    public let name = "test-hold"
    public let version = 1
    public let parameters = [ParameterSpec("text", .string, default: "waited"), ParameterSpec("ignoreTerm", .boolean, default: false),
                             ParameterSpec("readInput", .boolean, default: false)]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        if try context.bool("ignoreTerm") { signal(SIGTERM, SIG_IGN) }
        let env = ProcessInfo.processInfo.environment
        if let marker = env["BNREPRO_TEST_STARTED"] {
            FileManager.default.createFile(atPath: marker, contents: Data("\(getpid())".utf8))
        }
        guard let release = env["BNREPRO_TEST_RELEASE"] else { throw NeverReleased(description: "BNREPRO_TEST_RELEASE is not set") }
        // A bound, so that a test that dies before releasing does not leave a worker behind for ever.
        let deadline = Date().addingTimeInterval(600)
        while !FileManager.default.fileExists(atPath: release) {
            if Date() > deadline { throw NeverReleased(description: "\(release) never appeared") }
            usleep(10_000)
        }
        // `readInput`: "<text>:<first input's out.txt>", read only after the release, so that a test can
        // swap the input's object in between.
        var text = try context.string("text")
        if try context.bool("readInput"), let input = context.inputs.first {
            text += ":" + (try String(contentsOf: try input.file("out.txt", for: context.stage), encoding: .utf8))
        }
        try Data(text.utf8).write(to: context.output("out.txt"))
    }
}

/// Writes `result.json` and `values.npy` holding `value` plus what a real stage must not depend on:
/// $BNREPRO_TEST_DRIFT (a result that is not a function of the stage's inputs, which `audit` must catch)
/// and `perThread` × the worker's OpenMP thread count (a result that depends on the thread count, as
/// a parallel reduction's last bits do).
public struct DriftKind: StageKind {
    public let name = "test-drift"
    public let version = 1
    public let parameters = [ParameterSpec("value", .number, default: 1), ParameterSpec("perThread", .number, default: 0)]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        let drift = ProcessInfo.processInfo.environment["BNREPRO_TEST_DRIFT"].flatMap(Double.init) ?? 0
        let base = try context.double("value")
        let perThread = try context.double("perThread")
        let value = base + drift + perThread * Double(WorkerThreads.count())
        let result: JSONValue = ["stage": .string(context.stage), "value": .number(value), "nested": ["items": [1, .number(value)]], "fixed": "same"]
        try Data(result.canonicalText.utf8).write(to: context.output("result.json"))
        try NPY.write(try NPYArray(float64: [base, value], shape: [2]), to: context.output("values.npy"))
    }
}

/// `steps` steps of a stage that can save its progress (as `train` does): on the first attempt it stops
/// at `holdAt` (announcing its pid as `test-hold` does) until released or sent SIGTERM; on SIGTERM it
/// saves the step it reached in its partials and ends by the signal. A later attempt resumes there and
/// writes where it resumed from.
public struct StepsKind: StageKind {
    public let name = "test-steps"
    public let version = 1
    public let parameters = [ParameterSpec("steps", .integer, default: 10), ParameterSpec("holdAt", .integer, default: 4)]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        let state = context.partialsDirectory.appendingPathComponent("step.txt")
        let resumedFrom = (try? String(contentsOf: state, encoding: .utf8)).flatMap { Int($0) } ?? 0
        let steps = try context.int("steps"), holdAt = try context.int("holdAt")
        let env = ProcessInfo.processInfo.environment
        try GracefulStop.whileCheckpointable {
            for step in resumedFrom..<steps {
                if step == holdAt, resumedFrom == 0, let marker = env["BNREPRO_TEST_STARTED"], let release = env["BNREPRO_TEST_RELEASE"] {
                    FileManager.default.createFile(atPath: marker, contents: Data("\(getpid())".utf8))
                    let deadline = Date().addingTimeInterval(600)
                    while !FileManager.default.fileExists(atPath: release), !GracefulStop.isRequested, Date() < deadline { usleep(10_000) }
                }
                if GracefulStop.isRequested {
                    try FileManager.default.createDirectory(at: context.partialsDirectory, withIntermediateDirectories: true)
                    try Data("\(step)".utf8).write(to: state)
                    print("saved step \(step)")
                    GracefulStop.terminate()
                    throw GracefulStop.Stopped(step: step)
                }
            }
        }
        try Data("resumed from \(resumedFrom)".utf8).write(to: context.output("out.txt"))
    }
}

/// Burns CPU in proportion to `work` and declares that work to `estimate` as image-layers, so that
/// the estimate's calibration from records can be checked against what a stage really took.
public struct SpinKind: StageKind {
    public let name = "test-spin"
    public let version = 1
    public let parameters = [ParameterSpec("work", .number, default: 1)]
    public init() {}
    public func workUnits(params: JSONObject) -> Double? { params["work"]?.doubleValue }
    public func run(_ context: StageContext) throws {
        var x = 1.0
        for i in 0..<Int(try context.double("work") * 20_000_000) { x = x * 1.000000001 + Double(i & 1) * 1e-9 }
        try Data("\(x)".utf8).write(to: context.output("out.txt"))
    }
}

/// Holds `megabytes` of memory, every page written so that it is resident, for the peak-memory tests.
public struct AllocKind: StageKind {
    public let name = "test-alloc"
    public let version = 1
    public let parameters = [ParameterSpec("megabytes", .integer, default: 64)]
    public init() {}
    public func run(_ context: StageContext) throws {
        var buffer = [UInt8](repeating: 0, count: try context.int("megabytes") << 20)
        var sum = 0
        buffer.withUnsafeMutableBytes { bytes in
            for page in stride(from: 0, to: bytes.count, by: 4096) { bytes[page] = UInt8(truncatingIfNeeded: page >> 12) }
            for page in stride(from: 0, to: bytes.count, by: 4096) { sum &+= Int(bytes[page]) }
        }
        try Data("\(sum)".utf8).write(to: context.output("out.txt"))
    }
}

/// A long stage that saves its progress under SIGTERM, as `train` does, for the time-limit tests: `steps`
/// steps of `stepSeconds` each, folding every step into a running value. What it writes depends on
/// `steps` alone, not on `stepSeconds` nor on how often it was stopped and resumed, so a run cut by
/// time limits can be compared byte for byte with an uninterrupted one.
public struct SlowSumKind: StageKind {
    public let name = "test-slowsum"
    public let version = 1
    public let parameters = [ParameterSpec("steps", .integer, default: 10), ParameterSpec("stepSeconds", .number, default: 0)]
    public init() {}
    public func run(_ context: StageContext) throws {
        TestKinds.count(context)
        let state = context.partialsDirectory.appendingPathComponent("slowsum.txt")
        let saved = ((try? String(contentsOf: state, encoding: .utf8)) ?? "").split(separator: " ").compactMap { UInt64($0) }
        var (step, value) = saved.count == 2 ? (Int(saved[0]), saved[1]) : (0, 14_695_981_039_346_656_037)
        print("starting at step \(step)")
        let steps = try context.int("steps"), pause = try context.double("stepSeconds")
        try GracefulStop.whileCheckpointable {
            while step < steps {
                if GracefulStop.isRequested {
                    try FileManager.default.createDirectory(at: context.partialsDirectory, withIntermediateDirectories: true)
                    try Data("\(step) \(value)".utf8).write(to: state)
                    print("saved at step \(step)")
                    GracefulStop.terminate()
                    throw GracefulStop.Stopped(step: step)
                }
                if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                value = (value ^ UInt64(step)) &* 1_099_511_628_211
                step += 1
                context.progress("step \(step)/\(steps)", fraction: Double(step) / Double(steps))
            }
        }
        try Data("\(steps) steps: \(value)\n".utf8).write(to: context.output("sum.txt"))
    }
}
