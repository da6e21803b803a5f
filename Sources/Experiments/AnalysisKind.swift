import Foundation
import Pipeline

/// The contract between a stage that computes numbers and the stages that read them: a kind declares
/// its typed result, written as one JSON value to `<kind>.json`, next to its array outputs (named
/// constants of the kind) and its `claims.json`. Readers ask for a result by the kind's type, so a
/// renamed file or kind is a compile error, not a run-time surprise.
public protocol AnalysisKind: StageKind {
    associatedtype Result: Codable
    static var kindName: String { get }
}

extension AnalysisKind {
    public var name: String { Self.kindName }
    public static var resultFile: String { "\(kindName).json" }
}

/// The one JSON reader and writer of results. Non-finite numbers (an overflowing loss, a diverged
/// network's moments) are written as the strings "Infinity", "-Infinity" and "NaN", which this reader
/// and Python's json module read back.
public enum ResultJSON {
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        try encoder.encode(value).write(to: url, options: .atomic)
    }

    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(type, from: Data(contentsOf: url))
    }
}

extension StageContext {
    /// The dependencies of kind `K`, in dependency order.
    public func inputs<K: AnalysisKind>(of kind: K.Type) -> [StageInputs] { inputs(ofKind: K.kindName) }

    /// The single dependency of kind `K` (a figure reads its analysis stage this way).
    public func input<K: AnalysisKind>(of kind: K.Type) throws -> StageInputs {
        guard let found = inputs(of: kind).first else {
            throw PipelineError.badParameter(stage: stage, parameter: "deps", problem: "needs a '\(K.kindName)' stage among its deps")
        }
        return found
    }

    /// The typed result of the single dependency of kind `K`.
    public func result<K: AnalysisKind>(of kind: K.Type) throws -> K.Result {
        try readResult(K.self, from: try input(of: kind))
    }

    /// The typed results of every dependency of kind `K` (a matrix of training runs).
    public func results<K: AnalysisKind>(of kind: K.Type) throws -> [(input: StageInputs, result: K.Result)] {
        try inputs(of: kind).map { ($0, try readResult(K.self, from: $0)) }
    }

    func readResult<K: AnalysisKind>(_ kind: K.Type, from input: StageInputs) throws -> K.Result {
        let url = try input.file(K.resultFile, for: stage)
        do {
            return try ResultJSON.read(K.Result.self, from: url)
        } catch let error as DecodingError {
            throw AnalysisError.badInput(stage: stage, file: "\(input.stage)/\(K.resultFile)", problem: "does not decode: \(error)")
        }
    }

    /// Writes a kind's result and its claims (an empty list when the stage tests none).
    public func write<K: AnalysisKind>(_ result: K.Result, of kind: K.Type, claims: [Claim]) throws {
        try ResultJSON.write(result, to: output(K.resultFile))
        try writeClaims(claims)
    }

    public func writeClaims(_ claims: [Claim]) throws {
        let claims = CalibrationFit.marked(claims)
        try ClaimsFile(stage: stage, claims: claims).write(to: output(ClaimsFile.fileName))
        for claim in claims {
            print("claim \(claim.id): \(claim.verdict.rawValue) (paper \(claim.paper); ours \(claim.ours); \(claim.test))")
        }
    }

    /// The claims every dependency wrote (a figure repeats its analyses' claims in its own file).
    public func dependencyClaims() throws -> [Claim] {
        try inputs.flatMap { input -> [Claim] in
            guard let url = input.files[ClaimsFile.fileName] else { return [] }
            return try ClaimsFile.read(from: url).claims
        }
    }
}
