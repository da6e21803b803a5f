import Foundation
import Pipeline
import XCTest

/// Action records carry a schema version; one that cannot be used is reported as such (never as "never
/// run"), and `gc` keeps what it may reach unless told otherwise.
final class RecordVersionTests: XCTestCase {
    func testRecordsCarryTheVersionAndOldOnesAreReadAsVersionZero() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        let text = try String(contentsOf: try box.recordFile(ofStage: "a"), encoding: .utf8)
        XCTAssertTrue(text.contains("\"schemaVersion\" : 1"), text)
        try box.editRecord(ofStage: "a") { $0.removeValue(forKey: "schemaVersion") }
        let store = try CacheStore(root: box.cache)
        XCTAssertEqual(store.anyRecord(try box.key(ofStage: "a"))?.schemaVersion, 0)
        XCTAssertTrue(try box.run(["status"]).out.contains("up to date  a"))
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        XCTAssertEqual(box.executions, [], "a record of the previous format is still a cache hit")
    }

    func testUnreadableRecordIsReportedByStatusShowAndVerify() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        let key = try box.key(ofStage: "a")
        try box.editRecord(ofStage: "a") { $0.removeValue(forKey: "spec") }
        let status = try box.run(["status"])
        XCTAssertTrue(status.out.contains("unreadable  a  [\(key.prefix(12))]\n                - record unreadable: missing field 'spec'"), status.out)
        XCTAssertFalse(status.out.contains("never run   a"), status.out)
        XCTAssertTrue(status.out.contains("1 with an unreadable record"), status.out)
        let show = try box.run(["show", "a"])
        XCTAssertTrue(show.out.contains("status   record unreadable: missing field 'spec'"), show.out)
        let verify = try box.run(["verify"])
        XCTAssertEqual(verify.status, 1, verify.all)
        XCTAssertTrue(verify.out.contains("unreadable record: \(key) (missing field 'spec')"), verify.out)
        XCTAssertTrue(verify.out.contains("1 record could not be read"), verify.out)
        box.resetExecutions()
        let run = try box.run(["run", "c"])
        XCTAssertTrue(run.err.contains("a: record unreadable: missing field 'spec'; computing it again"), run.err)
        XCTAssertEqual(box.executions, ["a"], "a is recomputed; its outputs are the same bytes, so c stays cached")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    func testGCKeepsWhatAnUnreadableRecordMayReachUnlessAsked() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        let aRecord = try box.recordFile(ofStage: "a"), cRecord = try box.recordFile(ofStage: "c")
        try box.editRecord(ofStage: "a") { $0["status"] = 42 }
        let objects = box.objects().count
        let gc = try box.run(["gc"])
        XCTAssertTrue(gc.out.contains("removed 0 records and 0 objects"), gc.out)
        XCTAssertTrue(gc.out.contains("kept 1 unreadable record(s), what they may name and 1 record(s) that may depend on them"), gc.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: aRecord.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: cRecord.path), "c may depend on a: its key cannot be computed")
        XCTAssertEqual(box.objects().count, objects)
        let asked = try box.run(["gc", "--unreadable"])
        XCTAssertTrue(asked.out.contains("removed unreadable record(s): \(aRecord.deletingPathExtension().lastPathComponent)"), asked.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: aRecord.path))
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run"]).status, 0)
        XCTAssertEqual(box.executions, ["a", "c"], "what gc removed is recomputed")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    func testNewerRecordIsReportedAndNeverDeleted() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        let record = try box.recordFile(ofStage: "a")
        try box.editRecord(ofStage: "a") { $0["schemaVersion"] = 99 }
        let status = try box.run(["status"])
        XCTAssertTrue(status.out.contains("record written by a newer bnrepro (record version 99; this binary reads up to 1)"), status.out)
        let verify = try box.run(["verify"])
        XCTAssertTrue(verify.out.contains("newer record: \(record.deletingPathExtension().lastPathComponent) (record version 99"), verify.out)
        XCTAssertEqual(verify.status, 0, "a newer record is not damage")
        let gc = try box.run(["gc", "--unreadable"])
        XCTAssertTrue(gc.out.contains("kept 1 record(s) written by a newer bnrepro"), gc.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: record.path))
    }
}
