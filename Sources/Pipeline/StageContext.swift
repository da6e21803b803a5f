import Foundation

/// The outputs of one dependency, as a running stage sees them.
public struct StageInputs: Sendable {
    public let stage: String
    public let kind: String
    public let params: JSONObject
    /// Output name → read-only file in the object store (a worker passes `/proc/self/fd/<n>` paths:
    /// see `VerifiedInputs`).
    public let files: [String: URL]
    /// Output name → the file's name in objects/ (for provenance: `files` may name a descriptor).
    public var storedNames: [String: String] = [:]

    public func file(_ name: String, for consumer: String) throws -> URL {
        guard let url = files[name] else {
            throw PipelineError.missingInput(stage: consumer, dependency: stage, file: name)
        }
        return url
    }
}

/// Everything a stage kind may use while it runs. Outputs are the files it leaves in
/// `outputDirectory` (flat, one level); the runner stores them once `run` returns.
public struct StageContext: Sendable {
    public let stage: String
    public let key: String
    public let params: JSONObject
    /// Dependencies in the order pipeline.json lists them (a matrix dependency in expansion order).
    public let inputs: [StageInputs]
    public let outputDirectory: URL
    /// Scratch space, removed after the stage; for big temporaries that are not outputs.
    public let scratchDirectory: URL
    /// Kept across runs of this stage until it succeeds: partial downloads, resumable checkpoints.
    /// Only progress lives here, never results; a result must always come out of `run`.
    public let partialsDirectory: URL
    let progressSink: @Sendable (StageProgress) -> Void

    public init(stage: String, key: String, params: JSONObject, inputs: [StageInputs], outputDirectory: URL,
                scratchDirectory: URL, partialsDirectory: URL, progress: @escaping @Sendable (StageProgress) -> Void) {
        self.partialsDirectory = partialsDirectory
        self.stage = stage
        self.key = key
        self.params = params
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.scratchDirectory = scratchDirectory
        self.progressSink = progress
    }

    /// Reports progress (shown in the runner's status line, or one log line per call when not on a TTY).
    /// `fraction` in 0...1 lets the runner estimate the remaining time.
    public func progress(_ message: String, fraction: Double? = nil) {
        progressSink(StageProgress(message: message, fraction: fraction))
    }

    public func output(_ name: String) -> URL { outputDirectory.appendingPathComponent(name) }

    public func input(_ dependency: String) throws -> StageInputs {
        guard let found = inputs.first(where: { $0.stage == dependency }) else {
            throw PipelineError.badParameter(stage: stage, parameter: "deps", problem: "needs a dependency named '\(dependency)'")
        }
        return found
    }

    /// Dependencies whose kind is `kind`: a figure reads every `train@…` stage this way.
    public func inputs(ofKind kind: String) -> [StageInputs] { inputs.filter { $0.kind == kind } }

    // Typed parameter access; validation already checked types, so a failure here names a kind bug.
    public func int(_ name: String) throws -> Int { try typed(name, "an integer") { $0.intValue } }
    public func double(_ name: String) throws -> Double { try typed(name, "a number") { $0.doubleValue } }
    public func bool(_ name: String) throws -> Bool { try typed(name, "a boolean") { $0.boolValue } }
    public func string(_ name: String) throws -> String { try typed(name, "a string") { $0.stringValue } }
    public func doubles(_ name: String) throws -> [Double] {
        try typed(name, "an array of numbers") { v in
            v.arrayValue.flatMap { items in
                let ds = items.compactMap(\.doubleValue)
                return ds.count == items.count ? ds : nil
            }
        }
    }
    public func ints(_ name: String) throws -> [Int] {
        try typed(name, "an array of integers") { v in
            v.arrayValue.flatMap { items in
                let xs = items.compactMap(\.intValue)
                return xs.count == items.count ? xs : nil
            }
        }
    }

    private func typed<T>(_ name: String, _ what: String, _ get: (JSONValue) -> T?) throws -> T {
        guard let value = params[name] else {
            throw PipelineError.badParameter(stage: stage, parameter: name, problem: "missing")
        }
        guard let typed = get(value) else {
            throw PipelineError.badParameter(stage: stage, parameter: name, problem: "expected \(what), got \(value.canonicalText)")
        }
        return typed
    }
}

public struct StageProgress: Codable, Sendable, Equatable {
    public let message: String
    public let fraction: Double?
    public init(message: String, fraction: Double?) {
        self.message = message
        self.fraction = fraction
    }
}
