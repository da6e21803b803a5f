import Foundation
import Pipeline
import XCTest

/// A pull brings the records of a target's whole closure but objects only where they are needed, so a
/// later `run` of new stages that read a record-only stage's outputs must compute that stage first.
final class PulledRecordsTests: XCTestCase {
    func testStagesThatReadARecordOnlyDependencyWaitForItToBeComputed() throws {
        let origin = try Sandbox("""
        {"stages": [
          {"name": "a", "kind": "test-write", "params": {"text": "A"}},
          {"name": "b", "kind": "test-concat", "deps": ["a"]}
        ]}
        """)
        XCTAssertEqual(try origin.run(["run", "-j", "1"]).status, 0)
        let remote = origin.directory.appendingPathComponent("remote")
        try FileManager.default.createDirectory(at: remote, withIntermediateDirectories: true)
        XCTAssertEqual(try origin.run(["remote", "add", "origin", remote.absoluteString, "--default"]).status, 0)
        XCTAssertEqual(try origin.run(["push"]).status, 0)

        // The reader's pipeline adds two stages that read a; pulling b brings a's record only.
        let reader = try Sandbox("""
        {"stages": [
          {"name": "a", "kind": "test-write", "params": {"text": "A"}},
          {"name": "b", "kind": "test-concat", "deps": ["a"]},
          {"name": "c", "kind": "test-concat", "deps": ["a"], "params": {"separator": "c"}},
          {"name": "d", "kind": "test-concat", "deps": ["a"], "params": {"separator": "d"}}
        ]}
        """)
        XCTAssertEqual(try reader.run(["remote", "add", "origin", remote.absoluteString, "--default"]).status, 0)
        let pull = try reader.run(["pull", "b"])
        XCTAssertEqual(pull.status, 0, pull.all)
        let store = try CacheStore(root: reader.cache)
        let aRecord = try XCTUnwrap(store.anyRecord(try origin.key(ofStage: "a")))
        XCTAssertFalse(aRecord.outputs.values.allSatisfy(store.has), "a came as a record only")

        let run = try reader.run(["run", "-j", "1"])
        XCTAssertEqual(run.status, 0, run.all)
        XCTAssertTrue(run.all.contains("a: only its record was pulled"), run.all)
        XCTAssertFalse(run.all.contains("FAILED"), run.all)
        XCTAssertEqual(try reader.run(["verify"]).status, 0)
    }
}
