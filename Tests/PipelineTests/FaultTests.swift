import Foundation
import XCTest

/// Kills, corruption, concurrent runs, stale locks and garbage collection.
final class FaultTests: XCTestCase {
    let slowPipeline = """
    {"stages": [
      {"name": "a", "kind": "test-write", "params": {"text": "A"}},
      {"name": "s", "kind": "test-sleep", "params": {"seconds": 2}, "deps": ["a"]},
      {"name": "t", "kind": "test-concat", "deps": ["s"]}
    ]}
    """

    func testKillNineMidStageLeavesAConsistentCache() throws {
        let box = try Sandbox(slowPipeline)
        let marker = box.directory.appendingPathComponent("started")
        let run = try box.start(["run"], env: ["BNREPRO_TEST_STARTED": marker.path])
        XCTAssertTrue(box.waitForFile(marker))
        usleep(100_000)
        let worker = Int32(try String(contentsOf: marker, encoding: .utf8))!
        kill(run.process.processIdentifier, SIGKILL)
        kill(worker, SIGKILL)
        run.process.waitUntilExit()
        XCTAssertEqual(box.executions, ["a", "s"])
        box.resetExecutions()
        let again = try box.run(["run"])
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertEqual(box.executions, ["s", "t"], "only the killed stage and what follows it run again")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: box.cache.appendingPathComponent("tmp").path)
        XCTAssertEqual(leftovers, [], "the killed run's work directory is gone")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    func testKilledWorkerIsReportedAsAFailure() throws {
        let box = try Sandbox(slowPipeline)
        let marker = box.directory.appendingPathComponent("started")
        let run = try box.start(["run"], env: ["BNREPRO_TEST_STARTED": marker.path])
        XCTAssertTrue(box.waitForFile(marker))
        usleep(100_000)
        kill(Int32(try String(contentsOf: marker, encoding: .utf8))!, SIGKILL)
        let err = String(decoding: run.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, 1)
        XCTAssertTrue(err.contains("s failed: worker killed by signal 9"), err)
    }

    func testCorruptObjectIsFoundByVerifyAndRecomputed() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run", "c"])
        try corrupt(box, content: "A")
        let verify = try box.run(["verify"])
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.out.contains("corrupt: "), verify.out)
        XCTAssertTrue(verify.out.contains("stale now, rerun by the next `bnrepro run`: a"), verify.out)
        let status = try box.run(["status"])
        XCTAssertTrue(status.out.contains("stale       a\n                - cached outputs are missing or were quarantined"), status.out)
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        XCTAssertEqual(box.executions, ["a"], "a is recomputed; c's inputs are the same bytes again, so c stays cached")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    func testCorruptInputIsDetectedOnRead() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run", "c"])
        try corrupt(box, content: "B")
        box.resetExecutions()
        let run = try box.run(["run", "c", "--force"])
        XCTAssertEqual(run.status, 0, run.all)
        XCTAssertTrue(run.err.contains("is missing or corrupt; quarantined"), run.err)
        XCTAssertEqual(box.executions, ["b", "c"], "the producer of the corrupt input runs again, then c")
        XCTAssertEqual(try box.run(["cat", "c:out.txt"]).out, "A+B\n")
    }

    func testSecondRunWaitsOrFailsWithNoWait() throws {
        let box = try Sandbox(slowPipeline)
        let marker = box.directory.appendingPathComponent("started")
        let first = try box.start(["run"], env: ["BNREPRO_TEST_STARTED": marker.path])
        XCTAssertTrue(box.waitForFile(marker))
        let refused = try box.run(["run", "--no-wait"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("the cache is in use by another run (pid \(first.process.processIdentifier)"), refused.err)
        let waited = try box.run(["run"])
        XCTAssertEqual(waited.status, 0)
        XCTAssertTrue(waited.err.contains("waiting for another run (pid \(first.process.processIdentifier)"), waited.err)
        XCTAssertTrue(waited.err.contains("ran 0, cached 3"), "the waiting run finds everything done: \(waited.err)")
        first.process.waitUntilExit()
        XCTAssertEqual(box.executions, ["a", "s", "t"])
    }

    func testStaleLockIsTakenOver() throws {
        let box = try Sandbox(basicPipeline)
        try FileManager.default.createDirectory(at: box.cache, withIntermediateDirectories: true)
        try Data("pid 999999 on elsewhere, started long ago: bnrepro run".utf8).write(to: box.cache.appendingPathComponent("lock.info"))
        FileManager.default.createFile(atPath: box.cache.appendingPathComponent("lock").path, contents: nil)
        let run = try box.run(["run", "--no-wait"])
        XCTAssertEqual(run.status, 0, run.all)
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.cache.appendingPathComponent("lock.info").path))
    }

    func testGarbageCollectionKeepsWhatAnyProfileReaches() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run"])
        try box.run(["run", "--profile", "long"])
        // Drop the matrix and change b: the old b and all of m become unreachable.
        let withoutMatrix = basicPipeline.split(separator: "\n").filter { !$0.contains("\"name\": \"m\"") }.joined(separator: "\n")
            .replacingOccurrences(of: "\"publish\": \"figures\" },", with: "\"publish\": \"figures\" }")
            .replacingOccurrences(of: #""text": "B""#, with: #""text": "b2""#)
        try box.write(withoutMatrix)
        try box.run(["run"])
        try box.run(["run", "--profile", "long"])
        let before = box.objects().count
        let dry = try box.run(["gc", "--dry-run"])
        // Reachable: a, b2, c under quick; a, b2, c under long. Gone: b, both old c, the four m.
        XCTAssertTrue(dry.out.contains("kept 5 records; would remove 7 records and 9 objects"), dry.out)
        XCTAssertEqual(box.objects().count, before, "a dry run removes nothing")
        let gc = try box.run(["gc"])
        XCTAssertTrue(gc.out.contains("kept 5 records; removed 7 records and 9 objects"), gc.out)
        XCTAssertEqual(box.objects().count, before - 9)
        box.resetExecutions()
        try box.run(["run"])
        try box.run(["run", "--profile", "long"])
        XCTAssertEqual(box.executions, [], "everything reachable was kept")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    /// Overwrites the object holding exactly `content`, as a failing disk would.
    private func corrupt(_ box: Sandbox, content: String) throws {
        let target = try XCTUnwrap(box.objects().first { (try? String(contentsOf: $0, encoding: .utf8)) == content })
        chmod(target.path, 0o644)
        try Data("Z".utf8).write(to: target)
    }
}
