import Foundation

public struct OutputRef: Codable, Sendable, Equatable {
    public let digest: String
    public let size: Int64
}

/// The outputs of one dependency as an action names them.
public struct InputRef: Codable, Sendable, Equatable {
    public let stage: String
    public let kind: String
    public let params: JSONObject
    public let outputs: [String: OutputRef]

    public init(stage: String, kind: String, params: JSONObject, outputs: [String: OutputRef]) {
        (self.stage, self.kind, self.params, self.outputs) = (stage, kind, params, outputs)
    }
}

/// What to compute: everything a worker needs to run a stage, and everything its key is made of.
/// Written to the store before the stage runs, so any executor (a child process, a Slurm job) can
/// run it from the key alone.
public struct ActionSpec: Codable, Sendable {
    public let key: String
    public let stage: String
    public let kind: String
    public let version: Int
    public let params: JSONObject
    public let inputs: [InputRef]

    public init(stage: ResolvedStage, inputs: [InputRef]) {
        self.init(stage: stage.name, kind: stage.kind.name, version: stage.version, params: stage.params, inputs: inputs)
    }

    public init(stage: String, kind: String, version: Int, params: JSONObject, inputs: [InputRef]) {
        self.stage = stage
        self.kind = kind
        self.version = version
        self.params = params
        self.inputs = inputs
        self.key = StageKey.compute(kind: kind, version: version, params: params, inputs: inputs)
    }
}

public enum StageKey {
    /// SHA-256 of the canonical JSON of kind, version, params and the dependencies' output digests.
    public static func compute(kind: String, version: Int, params: JSONObject, inputs: [InputRef]) -> String {
        var deps = JSONObject()
        for input in inputs {
            var outputs = JSONObject()
            for (name, ref) in input.outputs { outputs[name] = .string(ref.digest) }
            deps[input.stage] = .object(outputs)
        }
        let material: JSONValue = .object(JSONObject([
            ("kind", .string(kind)), ("version", .number(Double(version))),
            ("params", .object(params)), ("inputs", .object(deps)),
        ]))
        return Digest.sha256(material.canonicalText)
    }
}

/// What was computed (or what failed): stored under the action's key once every object it names
/// is in the store. It carries the action it answers, so what was asked is written down once.
public struct ActionRecord: Codable, Sendable {
    /// Only `succeeded` records are results (actions/); `failed` and `interrupted` ones (failures/) say
    /// what happened to the last attempt. `interrupted` was added without a schema bump: an older
    /// binary finds such a record unreadable and shows no last failure, which is all it could say.
    public enum Status: String, Codable, Sendable { case succeeded, failed, interrupted }

    /// The record format this binary writes. Bump it when a field changes meaning or a required field
    /// is added; `RecordFile` reports a record of a higher version as newer instead of misreading it.
    /// `threads`, `peakMemoryBytes`, `cpuModel`, `enginePlan` and `sourceDigest` were added without a bump: each is optional, absent means "not
    /// recorded", and a binary that does not know them reads the rest correctly, so refusing their
    /// records would only cost reruns.
    public static let currentSchemaVersion = 1

    /// The format the record was written in: 0 for records from before the field existed.
    public let schemaVersion: Int
    public let spec: ActionSpec
    public var key: String { spec.key }
    public var stage: String { spec.stage }
    public var kind: String { spec.kind }
    public var version: Int { spec.version }
    public var params: JSONObject { spec.params }
    public var inputs: [InputRef] { spec.inputs }
    public var outputs: [String: OutputRef]
    public var status: Status
    public var error: String?
    public var started: Date
    public var finished: Date
    public var wallSeconds: Double
    public var cpuSeconds: Double
    public var host: String
    public var gitCommit: String?
    public var executor: String
    /// Digest of the captured stdout and stderr.
    public var log: String?
    /// The OpenMP thread count the worker computed with (`WorkerThreads`): oneDNN's weight-gradient
    /// reductions split their sums by it, so `audit` needs it to tell a thread-count effect from a bug.
    /// Nil in records written before it was kept.
    public var threads: Int?
    /// The worker's peak resident memory (`StageExecution.peakMemoryBytes`): what a Slurm job's `--mem`
    /// must cover, and what `estimate` predicts a stage of the same kind needs. Nil in older records.
    public var peakMemoryBytes: Int64?
    /// The processor the worker ran on (`CPUModel`): results computed on another CPU may differ in their
    /// last bits, and `audit` says so instead of calling it a failure. Nil in older records.
    public var cpuModel: String?
    /// The engine plan the stage's networks ran with (`EngineSetup`; JSON: the activations' layout and
    /// each convolution's implementation), so that `audit` recomputes with the same one. Nil for a stage
    /// that built no network, and in records from before plans, which ran with the default plan.
    public var enginePlan: String?
    /// The digest of the source that decided the outputs (`KindSourceLock`, as the binary that computed
    /// them was locked): a pulled result can be checked against the code that made it. Nil in older records.
    public var sourceDigest: String?

    public init(spec: ActionSpec, status: Status, started: Date, executor: String) {
        schemaVersion = ActionRecord.currentSchemaVersion
        self.spec = spec
        outputs = [:]
        self.status = status
        self.started = started
        finished = started
        wallSeconds = 0
        cpuSeconds = 0
        host = ProcessInfo.processInfo.hostName
        self.executor = executor
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion, spec, outputs, status, error, started, finished, wallSeconds, cpuSeconds, host, gitCommit, executor, log, threads, peakMemoryBytes, cpuModel, enginePlan, sourceDigest
    }

    /// Migration: a record without `schemaVersion` is the previous format (version 0). Its fields are
    /// those of version 1, so it is read as is and only its version says where it came from.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decodeIfPresent(Int.self, forKey: .schemaVersion) ?? 0
        // Before any other field: a newer format may have changed them, and must be left alone, not misread.
        guard schemaVersion <= ActionRecord.currentSchemaVersion else { throw NewerRecordFormat(schemaVersion: schemaVersion) }
        spec = try c.decode(ActionSpec.self, forKey: .spec)
        outputs = try c.decode([String: OutputRef].self, forKey: .outputs)
        status = try c.decode(Status.self, forKey: .status)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        started = try c.decode(Date.self, forKey: .started)
        finished = try c.decode(Date.self, forKey: .finished)
        wallSeconds = try c.decode(Double.self, forKey: .wallSeconds)
        cpuSeconds = try c.decode(Double.self, forKey: .cpuSeconds)
        host = try c.decode(String.self, forKey: .host)
        gitCommit = try c.decodeIfPresent(String.self, forKey: .gitCommit)
        executor = try c.decode(String.self, forKey: .executor)
        log = try c.decodeIfPresent(String.self, forKey: .log)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
        peakMemoryBytes = try c.decodeIfPresent(Int64.self, forKey: .peakMemoryBytes)
        cpuModel = try c.decodeIfPresent(String.self, forKey: .cpuModel)
        enginePlan = try c.decodeIfPresent(String.self, forKey: .enginePlan)
        sourceDigest = try c.decodeIfPresent(String.self, forKey: .sourceDigest)
    }

    /// Every object the record keeps alive.
    public var objectDigests: [String] { outputs.values.map(\.digest) + (log.map { [$0] } ?? []) }

    /// Every digest the record names (its key, outputs, log, inputs) that is not 64 lowercase hex digits,
    /// with where it was found: such a record was planted or damaged, and none of it may become a path.
    public var invalidDigests: [String] {
        var bad: [String] = []
        if !Digest.isValid(key) { bad.append("key '\(key)'") }
        for (name, ref) in outputs where !Digest.isValid(ref.digest) { bad.append("output '\(name)' digest '\(ref.digest)'") }
        if let log, !Digest.isValid(log) { bad.append("log digest '\(log)'") }
        bad += spec.invalidDigests
        return bad
    }
}

extension ActionSpec {
    /// The input digests that are not valid digests (see `ActionRecord.invalidDigests`).
    public var invalidDigests: [String] {
        inputs.flatMap { input in
            input.outputs.filter { !Digest.isValid($0.value.digest) }.map { "input '\(input.stage):\($0.key)' digest '\($0.value.digest)'" }
        }
    }
}

/// Thrown while decoding a record written by a newer bnrepro (see `RecordRead.newer`).
struct NewerRecordFormat: Error { let schemaVersion: Int }
