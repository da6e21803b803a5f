import Foundation
import Pipeline
import PipelineTestKinds
import XCTest

/// The parts of pipeline.json that make it read like an experiment table: defaults, settings axes
/// (zipped, not crossed), one-line params objects in profiles, and the figures list.
final class PipelineShapeTests: XCTestCase {
    let registry = TestKinds.registry

    func resolve(_ text: String, profile: String? = nil, set: [String] = []) throws -> ResolvedPipeline {
        let doc = try PipelineDocument.parse(Data(text.utf8))
        return try ResolvedPipeline(document: doc, profile: profile, overrides: try set.map(Overrides.parseAssignment), registry: registry)
    }

    let table = #"""
    {"defaultProfile": "quick",
     "defaults": {"text": "shared", "lr": 0.5, "seconds": 9},
     "profiles": {"quick": {}, "small": {"defaults": {"text": "tiny"}, "train.params": {"repeat": 3, "lr": 0.25}}},
     "stages": [
       {"name": "train", "kind": "test-write",
        "matrix": {"run": [{"bn": true, "lr": 0.1}, {"bn": false, "lr": 0.0001}], "repeat": [1, 2]}},
       {"name": "own", "kind": "test-write", "params": {"text": "mine"}}
     ]}
    """#

    func testSettingsAxesAreZippedAndNamedFromTheirSettings() throws {
        let p = try resolve(table)
        let names = p.stages.filter { $0.group == "train" }.map(\.name)
        XCTAssertEqual(names, ["train@bn,lr=0.1,repeat=1", "train@bn,lr=0.1,repeat=2",
                               "train@nobn,lr=0.0001,repeat=1", "train@nobn,lr=0.0001,repeat=2"])
        let s = try XCTUnwrap(p.stage("train@nobn,lr=0.0001,repeat=2"))
        XCTAssertEqual(s.params["bn"], .bool(false))
        XCTAssertEqual(s.params["lr"], .number(0.0001))
        XCTAssertEqual(s.params["repeat"], .number(2))
    }

    func testDefaultsFillOnlyParamsTheKindDeclaresAndTheStageLeavesOpen() throws {
        let p = try resolve(table)
        // test-write has no "seconds" parameter: the default is not forced on it (no unknown-param error).
        XCTAssertEqual(p.stage("own")?.params["text"], .string("mine"))
        XCTAssertEqual(p.stage("train@bn,lr=0.1,repeat=1")?.params["text"], .string("shared"))
        XCTAssertNil(p.stage("own")?.params["seconds"])
        XCTAssertEqual(p.stage("own")?.params["lr"], .number(0.5))
    }

    func testAProfileSetsDefaultsAndAWholeParamsObjectInOneLine() throws {
        let p = try resolve(table, profile: "small")
        let own = try XCTUnwrap(p.stage("own"))
        XCTAssertEqual(own.params["text"], .string("mine"))
        let first = try XCTUnwrap(p.stages.first { $0.group == "train" })
        XCTAssertEqual(first.params["text"], .string("tiny"))
        // The matrix still wins over base params for what it sets; the profile's object was merged.
        XCTAssertEqual(first.params["lr"], .number(0.1))
        let override = try resolve(table, set: ["defaults.text=fromset", "own.params={\"repeat\": 4}"])
        XCTAssertEqual(override.stage("own")?.params["repeat"], .number(4))
        XCTAssertEqual(override.stage("own")?.params["text"], .string("mine"))
        XCTAssertEqual(override.stages.first?.params["text"], .string("fromset"))
    }

    func testFiguresListBecomesPublishedStages() throws {
        let doc = try PipelineDocument.parse(Data(#"""
        {"stages": [{"name": "a", "kind": "test-write", "params": {"text": "x"}}],
         "figures": {"figA": ["a"]}}
        """#.utf8))
        let figure = try XCTUnwrap(doc.stages.last)
        XCTAssertEqual(figure["name"], .string("figA"))
        XCTAssertEqual(figure["kind"], .string(PipelineDocument.figureKindSlot), "the registry's figure kind fills it when resolved")
        XCTAssertEqual(figure["publish"], .string("figures"))
        XCTAssertEqual(figure["deps"], .array([.string("a")]))
        XCTAssertThrowsError(try PipelineDocument.parse(Data(#"{"stages": [], "figures": {"f": "a"}}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("field 'figures.f'"), "\(error)")
        }
    }

    /// A kind that draws figures, registered like any other: the `figures` map's stages take its name and
    /// its params for their figure; without one, the map is an error naming the figure.
    struct SketchKind: FigureDrawingKind {
        let name = "sketch"
        let version = 1
        let parameters = [ParameterSpec("which", .string), ParameterSpec("ink", .string, default: "black")]
        func params(forFigure id: String) -> JSONObject { JSONObject([("which", .string(id))]) }
        func run(_ context: StageContext) throws {}
    }

    func testTheFiguresMapUsesTheRegisteredFigureKind() throws {
        let doc = try PipelineDocument.parse(Data(#"""
        {"stages": [{"name": "a", "kind": "test-write", "params": {"text": "x"}}],
         "figures": {"figA": ["a"]}}
        """#.utf8))
        var registry = TestKinds.registry
        registry.register(SketchKind())
        let resolved = try ResolvedPipeline(document: doc, overrides: [try Overrides.parseAssignment("figA.params.ink=red")], registry: registry)
        let figure = try XCTUnwrap(resolved.stage("figA"))
        XCTAssertEqual(figure.kind.name, "sketch")
        XCTAssertEqual(figure.params["which"], .string("figA"))
        XCTAssertEqual(figure.params["ink"], .string("red"), "overrides reach a figure's params")
        XCTAssertEqual(resolved.figureStages.map(\.name), ["figA"])
        XCTAssertThrowsError(try ResolvedPipeline(document: doc, registry: TestKinds.registry)) {
            XCTAssertTrue("\($0)".contains("figures.figA") && "\($0)".contains("no kind that draws figures"), "\($0)")
        }
    }

    /// `"@figures"` among a stage's deps stands for every figure of the map, in its order; other deps stay.
    func testEveryFigureAsOneDependency() throws {
        let doc = try PipelineDocument.parse(Data(#"""
        {"stages": [{"name": "a", "kind": "test-write", "params": {"text": "x"}},
                    {"name": "table", "kind": "test-write", "params": {"text": "y"}, "deps": ["a", "@figures"]}],
         "figures": {"figB": ["a"], "figA": ["a"]}}
        """#.utf8))
        let table = try XCTUnwrap(doc.stages.first { $0["name"] == .string("table") })
        XCTAssertEqual(table["deps"], .array([.string("a"), .string("figB"), .string("figA")]))
    }
}

