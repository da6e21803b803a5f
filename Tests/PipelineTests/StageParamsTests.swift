import Foundation
@testable import Pipeline
import XCTest

/// Typed params (issue 24, item 1): one declaration gives the specs the pipeline validates against, the
/// defaults the keys see, and the typed value the stage reads.
final class StageParamsTests: XCTestCase {
    enum Colour: String, CaseIterable, Codable, Sendable, ParamValue { case red, green, blue }

    struct Shared: StageParams {
        @Param("the depth") var depth = 8
        @Param("colours to try") var colours: [Colour] = [.red, .blue]
        init() {}
    }

    struct Declared: StageParams {
        @ParamGroup var shared = Shared()
        @Param("a rate") var rate = 1e-3
        @Param("the colour") var colour = Colour.green
        @Required("where from") var url: String
        @Param("steps") var steps = [1, 4, 7]
        init() {}
    }

    struct Kind: ParameterizedKind {
        typealias Params = Declared
        let name = "declared"
        let version = 1
        func run(_ context: StageContext, _ params: Declared) throws {}
        func validate(_ params: Declared, stage: String, dependencyKinds: [String]) throws {
            guard params.rate > 0 else { throw PipelineError.badParameter(stage: stage, parameter: "rate", problem: "must be positive") }
        }
        func workUnits(_ params: Declared) -> Double? { Double(params.shared.depth * params.steps.count) }
    }

    func testTheDeclarationGivesFlatSpecsWithTypesDefaultsHelpAndChoices() {
        let specs = Declared.specs
        XCTAssertEqual(specs.map(\.name), ["depth", "colours", "rate", "colour", "url", "steps"], "groups are flattened, in order")
        XCTAssertEqual(specs.map(\.type), [.integer, .array, .number, .string, .string, .array])
        let defaults: [JSONValue?] = [8, ["red", "blue"], 1e-3, "green", nil, [1, 4, 7]]
        XCTAssertEqual(specs.map(\.defaultValue), defaults)
        XCTAssertEqual(specs.map(\.help), ["the depth", "colours to try", "a rate", "the colour", "where from", "steps"])
        XCTAssertEqual(specs[3].choices, ["red", "green", "blue"])
        XCTAssertEqual(specs[1].choices, ["red", "green", "blue"], "an array of enum values checks each element")
        XCTAssertNil(specs[2].choices)
        XCTAssertEqual(Kind().parameters.map(\.name), specs.map(\.name))
    }

    func testFlatParamsDecodeIntoTheTypedValueAndMissingOnesTakeTheirDefault() throws {
        let p = try Declared.decode(JSONObject([("depth", 20), ("colour", "blue"), ("url", "file:///x"), ("colours", ["green"])]), stage: "s")
        XCTAssertEqual(p.shared.depth, 20)
        XCTAssertEqual(p.shared.colours, [.green])
        XCTAssertEqual(p.colour, .blue)
        XCTAssertEqual(p.url, "file:///x")
        XCTAssertEqual(p.rate, 1e-3)
        XCTAssertEqual(p.steps, [1, 4, 7])
        XCTAssertEqual(Kind().workUnits(params: JSONObject([("url", "u"), ("steps", [1, 2])])), 16, "the cost model reads the typed params")
    }

    func testADecodingErrorNamesTheStageAndTheParameter() {
        func message(_ params: JSONObject) -> String {
            do { _ = try Declared.decode(params, stage: "s"); return "no error" } catch { return "\(error)" }
        }
        let colours = message(JSONObject([("url", "u"), ("colours", ["red", "gren"])]))
        XCTAssertTrue(colours.contains("'s'") && colours.contains("colours") && colours.contains("'gren' is not one of red, green, blue")
                      && colours.contains("did you mean 'green'?"), colours)
        let steps = message(JSONObject([("url", "u"), ("steps", [1, "x"])]))
        XCTAssertTrue(steps.contains("steps"), steps)
        XCTAssertTrue(message(JSONObject()).contains("url"), "a missing required value is named")
    }

    func testTheKindsValidationReadsTheTypedParams() {
        XCTAssertThrowsError(try Kind().validate(stage: "s", params: JSONObject([("url", "u"), ("rate", -1)]), dependencyKinds: [])) {
            XCTAssertTrue("\($0)".contains("rate") && "\($0)".contains("must be positive"), "\($0)")
        }
        XCTAssertNoThrow(try Kind().validate(stage: "s", params: JSONObject([("url", "u")]), dependencyKinds: []))
    }

    func testThePipelineRejectsAValueOutsideAnEnumWhenItLoads() throws {
        let registry = KindRegistry([Kind()])
        func load(_ params: String) -> String {
            let text = #"{"stages": [{"name": "a", "kind": "declared", "params": \#(params)}]}"#
            do {
                _ = try ResolvedPipeline(document: try PipelineDocument.parse(Data(text.utf8)), profile: nil, overrides: [], registry: registry)
                return "loaded"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(load(#"{"url": "u", "colour": "gren"}"#),
                       "pipeline.json: stage 'a', field 'params.colour': 'gren' is not one of red, green, blue; did you mean 'green'?")
        XCTAssertTrue(load(#"{"url": "u", "colours": ["red", "bleu"]}"#).contains("'bleu' is not one of red, green, blue"))
        XCTAssertEqual(load(#"{"url": "u"}"#), "loaded")
    }
}
