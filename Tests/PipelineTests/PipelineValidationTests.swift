import Foundation
import Pipeline
import PipelineTestKinds
import XCTest

final class PipelineValidationTests: XCTestCase {
    let registry = TestKinds.registry

    func resolve(_ text: String, profile: String? = nil, set: [String] = []) throws -> ResolvedPipeline {
        let doc = try PipelineDocument.parse(Data(text.utf8))
        return try ResolvedPipeline(document: doc, profile: profile, overrides: try set.map(Overrides.parseAssignment), registry: registry)
    }

    func message(_ text: String, profile: String? = nil, set: [String] = []) -> String {
        do { _ = try resolve(text, profile: profile, set: set); return "no error" } catch { return "\(error)" }
    }

    func stages(_ body: String) -> String { "{\"stages\": [\(body)]}" }

    func testMalformedJSONNamesLineAndColumn() {
        let m = message("{\n  \"stages\": [\n    {\"name\": \"a\",, }\n  ]\n}")
        XCTAssertTrue(m.hasPrefix("pipeline.json:3:18: invalid JSON"), m)
        XCTAssertTrue(message("{\"stages\": [], \"stages\": []}").contains("duplicate key \"stages\""))
        XCTAssertTrue(message("{\"stages\": [1.]}").contains("digit expected after '.'"))
    }

    func testUnknownFieldsAreRejectedWithSuggestion() {
        XCTAssertEqual(message("{\"stagez\": []}"), "pipeline.json: field 'stagez': unknown field; did you mean 'stages'?")
        let m = message(stages(#"{"name": "a", "kind": "test-write", "parms": {"text": "x"}}"#))
        XCTAssertEqual(m, "pipeline.json: stage 'a', field 'parms': unknown field; did you mean 'params'?")
    }

    func testWrongTypesNameStageAndField() {
        XCTAssertEqual(message(stages(#"{"name": "a", "kind": "test-write", "params": [1]}"#)),
                       "pipeline.json: stage 'a', field 'params': expected an object, got array")
        XCTAssertEqual(message(stages(#"{"name": "a", "kind": 3}"#)),
                       "pipeline.json: stage 'a', field 'kind': expected a string, got number")
        XCTAssertEqual(message(stages(#"{"name": "a", "kind": "test-write", "params": {"text": 5}}"#)),
                       "pipeline.json: stage 'a', field 'params.text': expected string, got number 5")
        XCTAssertEqual(message(stages(#"{"name": "a", "kind": "test-write", "params": {"text": "x", "repeat": 1.5}}"#)),
                       "pipeline.json: stage 'a', field 'params.repeat': expected integer, got number 1.5")
        XCTAssertEqual(message(stages(#"{"name": "a", "kind": "test-write"}"#)),
                       "pipeline.json: stage 'a', field 'params.text': missing (kind 'test-write' requires it)")
        XCTAssertTrue(message(stages(#"{"name": "a", "kind": "test-write", "params": {"text": "x", "txet": 1}}"#))
            .contains("field 'params.txet': kind 'test-write' has no parameter 'txet'"))
    }

    func testUnknownKindAndDependencySuggestTheNearestName() {
        XCTAssertEqual(message(stages(#"{"name": "a", "kind": "test-writ", "params": {"text": "x"}}"#)),
                       "stage 'a', field 'kind': unknown kind 'test-writ'; did you mean 'test-write'?")
        let m = message(stages(#"{"name": "train", "kind": "test-write", "params": {"text": "x"}}, {"name": "fig", "kind": "test-concat", "deps": ["trian"]}"#))
        XCTAssertEqual(m, "stage 'fig' depends on 'trian', which is not defined; did you mean 'train'?")
    }

    func testDuplicateAndUnsafeNames() {
        let a = #"{"name": "a", "kind": "test-write", "params": {"text": "x"}}"#
        XCTAssertEqual(message(stages(a + "," + a)), "pipeline.json: stage 'a' is defined more than once")
        XCTAssertTrue(message(stages(#"{"name": "a b", "kind": "test-write", "params": {"text": "x"}}"#)).contains("stage name 'a b' may contain only"))
        XCTAssertTrue(message(stages(#"{"name": "../x", "kind": "test-write", "params": {"text": "x"}}"#)).contains("stage name '../x'"))
        XCTAssertTrue(message(stages(#"{"name": "m", "kind": "test-write", "params": {"text": "x"}, "matrix": {"text": ["a b"]}}"#))
            .contains("stage name 'm@text=a b'"))
    }

    func testCycleIsNamed() {
        let m = message(stages("""
            {"name": "a", "kind": "test-concat", "deps": ["c"]}, {"name": "b", "kind": "test-concat", "deps": ["a"]},
            {"name": "c", "kind": "test-concat", "deps": ["b"]}, {"name": "d", "kind": "test-write", "params": {"text": "x"}}
            """))
        XCTAssertTrue(m.hasPrefix("the stages form a cycle: "), m)
        for name in ["a", "b", "c"] { XCTAssertTrue(m.contains(name)) }
        XCTAssertFalse(m.contains("d"), m)
    }

    func testMatrixExpansionProfilesAndOverrides() throws {
        let p = try resolve(basicPipeline)
        XCTAssertEqual(p.stages.map(\.name), ["a", "b", "c", "m@bn=true,lr=0.1", "m@bn=true,lr=0.0001", "m@bn=false,lr=0.1", "m@bn=false,lr=0.0001"])
        XCTAssertEqual(p.stage("m@bn=false,lr=0.0001")?.params["lr"], .number(0.0001))
        XCTAssertEqual(p.stage("a")?.params["repeat"], .number(1), "defaults are filled in")
        XCTAssertEqual(try p.select("m").count, 4)
        XCTAssertEqual(try p.closure(of: ["c"]).map(\.name), ["a", "b", "c"])

        XCTAssertEqual(try resolve(basicPipeline, profile: "long").stage("a")?.params["repeat"], .number(3))
        let set = try resolve(basicPipeline, profile: "long", set: ["a.params.repeat=5", "m.matrix.bn=[true]", "b.params.text=hi there"])
        XCTAssertEqual(set.stage("a")?.params["repeat"], .number(5), "--set wins over the profile")
        XCTAssertEqual(set.stage("b")?.params["text"], .string("hi there"))
        XCTAssertEqual(try set.select("m").count, 2)

        XCTAssertEqual(message(basicPipeline, profile: "paper"), "unknown profile 'paper'; the pipeline defines: quick, long")
        XCTAssertEqual(message(basicPipeline, set: ["aa.params.x=1"]), "cannot apply 'aa.params.x=1': --set: no stage named 'aa'; did you mean 'a'?"
            .replacingOccurrences(of: "=1'", with: "'"))
        XCTAssertTrue(message(basicPipeline, set: ["a.params.repeat=\"x\""]).contains("field 'params.repeat': expected integer, got string"))
        XCTAssertTrue(message(basicPipeline, set: ["m.matrix.lr=[]"]).contains("expected a non-empty array"))
    }

    /// One settings entry runs more values of a later axis than the others (Fig. 1's no-BN run at 0.1
    /// needs more seeds than the runs it shares the seed axis with); its other stages keep their names.
    func testASettingsEntryCanGiveALaterAxisItsOwnValues() throws {
        let matrix = #"{"run": [{"bn": true}, {"bn": false, "repeat": [1, 2, 3]}], "repeat": [1, 2]}"#
        let p = try resolve(stages(#"{"name": "m", "kind": "test-write", "params": {"text": "M"}, "matrix": \#(matrix)}"#))
        XCTAssertEqual(p.stages.map(\.name), ["m@bn,repeat=1", "m@bn,repeat=2", "m@nobn,repeat=1", "m@nobn,repeat=2", "m@nobn,repeat=3"])
        XCTAssertEqual(p.stage("m@nobn,repeat=3")?.params["repeat"], .number(3))
        XCTAssertEqual(p.stage("m@nobn,repeat=3")?.params["bn"], .bool(false))
        let plain = try resolve(stages(#"{"name": "m", "kind": "test-write", "params": {"text": "M"}, "matrix": {"run": [{"bn": true}, {"bn": false}], "repeat": [1, 2]}}"#))
        XCTAssertEqual(ActionSpec(stage: try XCTUnwrap(plain.stage("m@nobn,repeat=2")), inputs: []).key,
                       ActionSpec(stage: try XCTUnwrap(p.stage("m@nobn,repeat=2")), inputs: []).key, "the entry's axis values are not a param")

        let before = #"{"repeat": [1, 2], "run": [{"bn": true}, {"bn": false, "repeat": [1, 2, 3]}]}"#
        XCTAssertTrue(message(stages(#"{"name": "m", "kind": "test-write", "params": {"text": "M"}, "matrix": \#(before)}"#))
            .contains("field 'matrix.run': an entry gives values of the axis 'repeat', which comes before it"))
        let scalar = #"{"run": [{"bn": true}, {"bn": false, "repeat": 3}], "repeat": [1, 2]}"#
        XCTAssertTrue(message(stages(#"{"name": "m", "kind": "test-write", "params": {"text": "M"}, "matrix": \#(scalar)}"#))
            .contains("field 'matrix.repeat': an entry's 'repeat' replaces the axis's values, so it must be a non-empty array"))
    }

    func testKeysAreCanonical() throws {
        let one = try resolve(stages(#"{"name": "a", "kind": "test-write", "params": {"text": "x", "lr": 1, "repeat": 2}}"#))
        let two = try resolve(stages(#"{"name": "a", "kind": "test-write", "params": {"repeat": 2.0, "lr": 1e0, "text": "x"}}"#))
        let specOne = ActionSpec(stage: one.stages[0], inputs: []), specTwo = ActionSpec(stage: two.stages[0], inputs: [])
        XCTAssertEqual(specOne.key, specTwo.key, "key order and number spelling do not change the key")
        let three = try resolve(stages(#"{"name": "a", "kind": "test-write", "params": {"text": "x", "lr": 1.0000001, "repeat": 2}}"#))
        XCTAssertNotEqual(ActionSpec(stage: three.stages[0], inputs: []).key, specOne.key)
        XCTAssertEqual(JSONValue.object(JSONObject([("b", 1.5), ("a", [true, .null, "é\n"])])).canonicalText,
                       #"{"a":[true,null,"é\n"],"b":1.5}"#)
    }

    func testJSONParserRoundTrips() throws {
        let text = #"{"s": "a\"b\\c\u00e9\ud83d\ude00", "n": -12.5e-3, "z": 0, "a": [[], {}], "t": true}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(value["s"]?.stringValue, "a\"b\\cé😀")
        XCTAssertEqual(value["n"]?.doubleValue, -0.0125)
        XCTAssertEqual(try JSONParser.parse(value.canonicalText), value)
        XCTAssertEqual(value.objectValue?.keys, ["s", "n", "z", "a", "t"], "object order is kept")
    }
}
