import Foundation

/// A kind of stage: what `"kind": "train"` in pipeline.json names. The kind's code lives elsewhere
/// (Experiments, or a test); the pipeline only needs its name, version, parameters and `run`.
public protocol StageKind: Sendable {
    /// The name used in pipeline.json.
    var name: String { get }
    /// Bumped whenever what the kind computes changes meaning; part of every stage key.
    var version: Int { get }
    /// The parameters this kind accepts. Params not listed are rejected; defaults are filled in
    /// before the key is computed, so a key always says every value the stage used.
    var parameters: [ParameterSpec] { get }
    /// The version that goes into the key of a stage with these params. A kind that bundles several
    /// independent recipes (the figures) versions each on its own, so changing one reruns one stage.
    func version(for params: JSONObject) -> Int
    /// Checks, when the pipeline loads, what only the kind knows: that a figure depends on every
    /// kind it reads. `dependencyKinds` are the kinds of the stage's resolved deps.
    func validate(stage: String, params: JSONObject, dependencyKinds: [String]) throws
    /// Computes the outputs into `context.outputDirectory`.
    func run(_ context: StageContext) throws
    /// For `estimate`: the work of a stage with these params, in the compute engine's unit (the experiments
    /// count image-layers: one image forward through one ResNet layer; a training step costs about three).
    /// nil for kinds that do not run the engine, whose cost comes from their own records; a worker sets the
    /// engine up only for kinds that give a number.
    func workUnits(params: JSONObject) -> Double?
    /// For `audit` of a result computed on another CPU: the largest relative difference of its numbers
    /// that still counts as the same result. Only for kinds whose outputs are not chaotic (analyses at
    /// initialisation: a last-bit difference stays in the last bits); nil, the default, for the rest
    /// (training amplifies any difference), whose differences are reported as "differs (CPU X vs Y)".
    var crossCPUTolerance: Double? { get }
    /// What a reader calls a stage with these params ("Fig. 4"), for the report; nil: its name.
    func title(params: JSONObject) -> String?
}

extension StageKind {
    public func version(for params: JSONObject) -> Int { version }
    public func validate(stage: String, params: JSONObject, dependencyKinds: [String]) throws {}
    public func workUnits(params: JSONObject) -> Double? { nil }
    public var crossCPUTolerance: Double? { nil }
    public func title(params: JSONObject) -> String? { nil }
}

public struct ParameterSpec: Sendable {
    public enum ValueType: String, Sendable {
        case integer, number, boolean, string, array, object, any
    }
    public let name: String
    public let type: ValueType
    public let defaultValue: JSONValue?
    public let help: String
    /// The values a string parameter may take (an enum's cases); nil when any is accepted.
    public let choices: [String]?

    /// A parameter without a default is required.
    public init(_ name: String, _ type: ValueType, default defaultValue: JSONValue? = nil, help: String = "", choices: [String]? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
        self.choices = choices
    }

    /// What is wrong with a value outside the choices (a string, or an array's elements), nil when none is.
    func choiceProblem(_ value: JSONValue) -> String? {
        guard let choices else { return nil }
        let texts = value.stringValue.map { [$0] } ?? value.arrayValue?.compactMap(\.stringValue) ?? []
        guard let wrong = texts.first(where: { !choices.contains($0) }) else { return nil }
        return "'\(wrong)' is not one of \(choices.joined(separator: ", "))"
            + (closestMatch(wrong, in: choices).map { "; did you mean '\($0)'?" } ?? "")
    }

    func accepts(_ value: JSONValue) -> Bool {
        switch (type, value) {
        case (.any, _), (.number, .number), (.boolean, .bool), (.string, .string), (.array, .array), (.object, .object):
            return true
        case (.integer, .number): return value.intValue != nil
        default: return false
        }
    }
}

/// The kind that draws the figures of pipeline.json's `figures` map: a binary registers at most one.
public protocol FigureDrawingKind: StageKind {
    /// The params of the stage that draws figure `id` (before pipeline.json's own params for it).
    func params(forFigure id: String) -> JSONObject
}

/// How a worker (`bnrepro exec`) sets up the compute engine for one stage, and what the stage's
/// action record keeps of it. The binary that links an engine supplies it (`ExperimentKinds`).
public struct EngineSetup: Sendable {
    /// Before the kind runs, with the cache's root: chooses the plan (the one `audit` passes down, or the
    /// machine's, measured where the cache has none yet). A failure fails the stage.
    public var prepare: @Sendable (URL) throws -> Void
    /// After a successful run: keeps what the run measured beside the cache's plan and returns the plan
    /// as used, for the record (nil when the stage built no network).
    public var finish: @Sendable (URL) -> String?

    public init(prepare: @escaping @Sendable (URL) throws -> Void, finish: @escaping @Sendable (URL) -> String?) {
        self.prepare = prepare
        self.finish = finish
    }

    /// The environment variable through which a runner or `audit` hands workers a plan: "default" (the
    /// engine before plans), "measured" (the machine's, the default) or a recorded plan's JSON.
    public static let environmentVariable = "BNREPRO_ENGINE_PLAN"
}

/// The kinds a binary knows. `bnrepro` registers the experiments' kinds; tests register their own.
public struct KindRegistry: Sendable {
    private var kinds: [String: any StageKind] = [:]
    /// Seconds per work unit measured by running the engine briefly with the given OpenMP threads: what
    /// `estimate` uses for an engine kind that has no record in the cache yet (at one thread), and for
    /// the engine's speedup with more. nil where no engine is linked (the tests' kinds).
    public var measureSecondsPerWorkUnit: (@Sendable (_ threads: Int) -> Double?)?
    /// How a worker sets up the compute engine before a stage runs. nil where no engine is linked.
    public var engineSetup: EngineSetup?
    /// The digest of the source that decides a stage's outputs, as the binary's source lock records it
    /// (by kind and params: a figure's recipe is one of the figure kind's params). nil where there is no lock.
    public var sourceDigest: (@Sendable (_ kind: String, _ params: JSONObject) -> String?)?

    public init(_ kinds: [any StageKind] = []) {
        for kind in kinds { register(kind) }
    }

    public mutating func register(_ kind: any StageKind) {
        precondition(kinds[kind.name] == nil, "stage kind '\(kind.name)' registered twice")
        kinds[kind.name] = kind
    }

    public func kind(named name: String) -> (any StageKind)? { kinds[name] }

    /// The registered kind that draws figures, if any.
    public var figureKind: (any FigureDrawingKind)? {
        let drawing = kinds.values.compactMap { $0 as? any FigureDrawingKind }
        precondition(drawing.count <= 1, "more than one kind draws figures: \(drawing.map(\.name).sorted())")
        return drawing.first
    }
    public var names: [String] { kinds.keys.sorted() }
}
