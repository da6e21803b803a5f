import Foundation
import Pipeline
import PipelineTestKinds
import XCTest

/// Sizes a hostile or mistaken pipeline file cannot exceed: each is an error naming the cause, found
/// before the work (or memory) it would take.
final class PipelineLimitsTests: XCTestCase {
    private func message(_ text: String) -> String {
        do {
            let doc = try PipelineDocument.parse(Data(text.utf8))
            _ = try ResolvedPipeline(document: doc, registry: TestKinds.registry)
            return "no error"
        } catch { return "\(error)" }
    }

    /// A test-write stage named `name` with a matrix of `axes` (name, length) over the `repeat` param.
    private func stage(_ name: String, _ axes: [(String, Int)]) -> String {
        let matrix = axes.map { axis, n in "\"\(axis)\": [" + (0..<n).map(String.init).joined(separator: ",") + "]" }
        return #"{"name": "\#(name)", "kind": "test-write", "params": {"text": "x"}, "matrix": {\#(matrix.joined(separator: ", "))}}"#
    }

    func testMatrixOverTenThousandStagesIsRefusedBeforeExpanding() throws {
        XCTAssertEqual(message(#"{"stages": [\#(stage("m", [("repeat", 100), ("lr", 101)]))]}"#),
                       "pipeline.json: stage 'm', field 'matrix': expands to 10100 stages (repeat: 100 × lr: 101), more than the limit of 10000")
        // 20^8 = 2.56 × 10^10 stages: refused at once, from the axis lengths alone.
        let axes = (0..<8).map { ("p\($0)", 20) }
        let started = Date()
        XCTAssertTrue(message(#"{"stages": [\#(stage("big", axes))]}"#)
            .hasPrefix("pipeline.json: stage 'big', field 'matrix': expands to 25600000000 stages (p0: 20 × p1: 20"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "nothing was expanded")
        // A product beyond Int: 30 axes of 10.
        let overflow = message(#"{"stages": [\#(stage("huge", (0..<30).map { ("q\($0)", 10) }))]}"#)
        XCTAssertTrue(overflow.contains("expands to more than 9223372036854775807 stages"), overflow)
        // Several matrices that are each allowed but together exceed the limit.
        XCTAssertEqual(message(#"{"stages": [\#(stage("m1", [("repeat", 60), ("lr", 100)])), \#(stage("m2", [("repeat", 50), ("lr", 100)]))]}"#),
                       "pipeline.json: stage 'm2': the pipeline expands to more than 10000 stages by this stage, the limit")
        // Exactly the limit is allowed.
        let doc = try PipelineDocument.parse(Data(#"{"stages": [\#(stage("m", [("repeat", 100), ("lr", 100)]))]}"#.utf8))
        XCTAssertEqual(try ResolvedPipeline(document: doc, registry: TestKinds.registry).stages.count, 10_000)
    }

    func testJSONNestedDeeperThan64LevelsIsRefused() throws {
        let deep = { (n: Int) in String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n) }
        XCTAssertNoThrow(try JSONParser.parse(deep(64)))
        XCTAssertThrowsError(try JSONParser.parse(deep(65), file: "x.json")) { error in
            XCTAssertEqual("\(error)", "x.json:1:65: invalid JSON: objects and arrays nested deeper than 64 levels")
        }
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        XCTAssertThrowsError(try JSONParser.parse(objects)) { XCTAssertTrue("\($0)".contains("nested deeper than 64 levels")) }
        // Far deeper input fails the same way, without exhausting the stack.
        XCTAssertThrowsError(try JSONParser.parse(deep(1_000_000)))
        let m = message(#"{"stages": [{"name": "a", "kind": "test-write", "params": {"text": "x", "lr": \#(deep(70))}}]}"#)
        XCTAssertTrue(m.hasPrefix("pipeline.json:1:") && m.hasSuffix("invalid JSON: objects and arrays nested deeper than 64 levels"), m)
    }

    func testPipelineFileOverTenMegabytesIsRefusedBeforeReading() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Valid JSON, only too large: a document followed by 10 MB of spaces.
        let url = dir.appendingPathComponent("pipeline.json")
        let document = Data(#"{"stages": []}"#.utf8)
        try (document + Data(repeating: 0x20, count: PipelineDocument.maxFileBytes)).write(to: url)
        XCTAssertThrowsError(try PipelineDocument.load(url)) { error in
            XCTAssertEqual("\(error)", "cannot read \(url.path): it is \(document.count + (10 << 20)) bytes; a pipeline file may be at most 10 MB (10485760 bytes)")
        }
        // A file with no size to stat is bounded by the read.
        XCTAssertThrowsError(try PipelineDocument.load(URL(fileURLWithPath: "/dev/zero"))) { error in
            XCTAssertEqual("\(error)", "cannot read /dev/zero: it is more than 10485760 bytes; a pipeline file may be at most 10 MB (10485760 bytes)")
        }
        // Exactly the limit is read.
        try (document + Data(repeating: 0x20, count: PipelineDocument.maxFileBytes - document.count)).write(to: url)
        XCTAssertEqual(try PipelineDocument.load(url).stages.count, 0)
    }
}
