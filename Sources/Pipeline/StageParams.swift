import Foundation

/// A kind's parameters as one value type. Each stored property is a `@Param` (type, default and help on
/// one line), a `@Required` (no default), or a `@ParamGroup` of parameters several kinds share (the
/// network's). The declaration is the only place a parameter is defined: the specs the pipeline validates
/// against (and `show` prints) are read off a default instance, and the stage reads the decoded value.
public protocol StageParams: Decodable, Sendable {
    /// Every parameter at its default (required ones unset).
    init()
}

/// A value a parameter may hold: how pipeline.json spells its type, and its default as JSON.
public protocol ParamValue: Decodable, Sendable {
    static var parameterType: ParameterSpec.ValueType { get }
    /// The values a string parameter may take; nil when any is accepted.
    static var choices: [String]? { get }
    var jsonValue: JSONValue { get }
}

extension ParamValue {
    public static var choices: [String]? { nil }
}

extension Int: ParamValue {
    public static var parameterType: ParameterSpec.ValueType { .integer }
    public var jsonValue: JSONValue { .number(Double(self)) }
}

extension Double: ParamValue {
    public static var parameterType: ParameterSpec.ValueType { .number }
    public var jsonValue: JSONValue { .number(self) }
}

extension Bool: ParamValue {
    public static var parameterType: ParameterSpec.ValueType { .boolean }
    public var jsonValue: JSONValue { .bool(self) }
}

extension String: ParamValue {
    public static var parameterType: ParameterSpec.ValueType { .string }
    public var jsonValue: JSONValue { .string(self) }
}

extension Array: ParamValue where Element: ParamValue {
    public static var parameterType: ParameterSpec.ValueType { .array }
    /// An array of enum values: the choices of each element.
    public static var choices: [String]? { Element.choices }
    public var jsonValue: JSONValue { .array(map(\.jsonValue)) }
}

/// A string enum is a parameter whose value must be one of its cases (checked when the pipeline loads).
extension ParamValue where Self: RawRepresentable & CaseIterable, RawValue == String {
    public static var parameterType: ParameterSpec.ValueType { .string }
    public static var choices: [String]? { allCases.map(\.rawValue) }
    public var jsonValue: JSONValue { .string(rawValue) }
}

/// One parameter with a default: `@Param("ResNet depth 6n+2") var depth = 110`.
@propertyWrapper
public struct Param<Value: ParamValue>: Decodable, Sendable {
    public var wrappedValue: Value
    let help: String

    public init(wrappedValue: Value, _ help: String) {
        self.wrappedValue = wrappedValue
        self.help = help
    }

    public init(from decoder: Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Value.self)
        help = ""
    }
}

/// A parameter without a default: pipeline.json must give it.
@propertyWrapper
public struct Required<Value: ParamValue>: Decodable, Sendable {
    private var value: Value?
    let help: String

    public init(_ help: String) {
        self.help = help
    }

    /// Only read after decoding, which the pipeline does once the value is known to be there.
    public var wrappedValue: Value {
        get { value! }
        set { value = newValue }
    }

    public init(from decoder: Decoder) throws {
        value = try decoder.singleValueContainer().decode(Value.self)
        help = ""
    }
}

/// Parameters several kinds share, flattened into the kind's own: `@ParamGroup var network = NetworkParams()`.
@propertyWrapper
public struct ParamGroup<Group: StageParams>: Decodable, Sendable {
    public var wrappedValue: Group

    public init(wrappedValue: Group) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: Decoder) throws {
        wrappedValue = try Group(from: decoder)
    }
}

/// What the reflection below needs from each wrapper without knowing its value type.
protocol DeclaredParameter {
    func spec(named name: String) -> ParameterSpec
}

protocol DeclaredGroup {
    var members: any StageParams { get }
}

extension Param: DeclaredParameter {
    func spec(named name: String) -> ParameterSpec {
        ParameterSpec(name, Value.parameterType, default: wrappedValue.jsonValue, help: help, choices: Value.choices)
    }
}

extension Required: DeclaredParameter {
    func spec(named name: String) -> ParameterSpec {
        ParameterSpec(name, Value.parameterType, help: help, choices: Value.choices)
    }
}

extension ParamGroup: DeclaredGroup {
    var members: any StageParams { wrappedValue }
}

/// The layout of a params type, read once by reflection: each parameter's spec, and which group holds it
/// (the decoder sees groups as nested objects; pipeline.json and stage keys see one flat object).
struct ParamsLayout {
    enum Entry {
        case parameter(ParameterSpec)
        case group(name: String, ParamsLayout)
    }
    let entries: [Entry]

    init(of params: any StageParams) {
        entries = Mirror(reflecting: params).children.compactMap { child in
            guard let label = child.label else { return nil }
            // A wrapped property `depth` is stored as `_depth`; that is also the key Decodable reads.
            let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
            if let parameter = child.value as? any DeclaredParameter { return .parameter(parameter.spec(named: name)) }
            if let group = child.value as? any DeclaredGroup { return .group(name: name, ParamsLayout(of: group.members)) }
            return nil
        }
    }

    var specs: [ParameterSpec] {
        entries.flatMap { entry -> [ParameterSpec] in
            switch entry {
            case .parameter(let spec): return [spec]
            case .group(_, let layout): return layout.specs
            }
        }
    }

    /// The flat params as the nested object the synthesized decoder expects.
    func nested(_ flat: JSONObject) -> JSONValue {
        var object = JSONObject()
        for entry in entries {
            switch entry {
            case .parameter(let spec): object[spec.name] = flat[spec.name] ?? spec.defaultValue
            case .group(let name, let layout): object[name] = layout.nested(flat)
            }
        }
        return .object(object)
    }

    var groupNames: Set<String> {
        Set(entries.flatMap { entry -> [String] in
            if case .group(let name, let layout) = entry { return [name] + layout.groupNames }
            return []
        })
    }
}

extension StageParams {
    /// The parameters as the pipeline validates them, in declaration order.
    public static var specs: [ParameterSpec] { ParamsLayout(of: Self()).specs }

    /// The typed params of `stage` from its flat params (a missing value takes its default). A value of the
    /// wrong shape, such as an array with a non-number, is an error naming the stage and the parameter.
    public static func decode(_ flat: JSONObject, stage: String) throws -> Self {
        let layout = ParamsLayout(of: Self())
        let decoder = JSONDecoder()
        do {
            return try decoder.decode(Self.self, from: Data(layout.nested(flat).canonicalText.utf8))
        } catch let error as DecodingError {
            let name = Self.parameterName(error, groups: layout.groupNames)
            // A value outside an enum's cases: the same words as when the pipeline loads (params decoded
            // outside a pipeline, in a kind's validate or a test, were never checked at load).
            let choice = layout.specs.first { $0.name == name }.flatMap { spec in flat[name].flatMap(spec.choiceProblem) }
            throw PipelineError.badParameter(stage: stage, parameter: name, problem: choice ?? Self.problem(error))
        }
    }

    private static func parameterName(_ error: DecodingError, groups: Set<String>) -> String {
        let path: [CodingKey]
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: path = []
        }
        return path.first { $0.intValue == nil && !groups.contains($0.stringValue) }?.stringValue ?? "params"
    }

    private static func problem(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let c): return "expected \(type) at \(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        case .valueNotFound(_, let c), .dataCorrupted(let c): return c.debugDescription
        case .keyNotFound: return "missing"
        @unknown default: return "\(error)"
        }
    }
}

/// A kind whose parameters are a `StageParams` type: its specs, validation, run and cost all see them typed.
public protocol ParameterizedKind: StageKind {
    associatedtype Params: StageParams
    /// Checks what only the kind knows, on the typed params.
    func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws
    func run(_ context: StageContext, _ params: Params) throws
    /// The work of a stage with these params, in the engine's unit (see `StageKind.workUnits`).
    func workUnits(_ params: Params) -> Double?
}

extension ParameterizedKind {
    public var parameters: [ParameterSpec] { Params.specs }
    public func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws {}
    public func workUnits(_ params: Params) -> Double? { nil }

    public func validate(stage: String, params: JSONObject, dependencyKinds: [String]) throws {
        try validate(try Params.decode(params, stage: stage), stage: stage, dependencyKinds: dependencyKinds)
    }

    public func run(_ context: StageContext) throws {
        try run(context, try context.params(Params.self))
    }

    public func workUnits(params: JSONObject) -> Double? {
        (try? Params.decode(params, stage: name)).flatMap(workUnits)
    }
}

extension StageContext {
    /// This stage's params, typed.
    public func params<P: StageParams>(_ type: P.Type) throws -> P { try P.decode(params, stage: stage) }
}

extension StageInputs {
    /// A dependency's params, typed (a figure reads a training run's schedule this way).
    public func params<P: StageParams>(_ type: P.Type) throws -> P { try P.decode(params, stage: stage) }
}
