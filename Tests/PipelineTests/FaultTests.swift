import Foundation
import XCTest

/// Kills, corruption, concurrent runs, stale locks and garbage collection.
final class FaultTests: XCTestCase {
    /// `s` runs until the test releases it (`Sandbox.release`): no test here depends on how long it takes.
    static let holdPipeline = """
    {"stages": [
      {"name": "a", "kind": "test-write", "params": {"text": "A"}},
      {"name": "s", "kind": "test-hold", "deps": ["a"]},
      {"name": "t", "kind": "test-concat", "deps": ["s"]}
    ]}
    """

    func testKillNineMidStageLeavesAConsistentCache() throws {
        let box = try Sandbox(Self.holdPipeline)
        let run = try box.start(["run"], env: box.waitEnv)
        let worker = try box.waitForWorker()
        kill(run.process.processIdentifier, SIGKILL)
        kill(worker, SIGKILL)
        run.process.waitUntilExit()
        box.waitUntil("the killed worker to exit") { Sandbox.isGone(worker) }
        XCTAssertEqual(box.executions, ["a", "s"])
        box.resetExecutions()
        box.release()
        let again = try box.run(["run"], env: box.waitEnv)
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertEqual(box.executions, ["s", "t"], "only the killed stage and what follows it run again")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: box.cache.appendingPathComponent("tmp").path)
        XCTAssertEqual(leftovers, [], "the killed run's work directory is gone")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    func testKilledWorkerIsReportedAsAFailure() throws {
        let box = try Sandbox(Self.holdPipeline)
        let run = try box.start(["run"], env: box.waitEnv)
        kill(try box.waitForWorker(), SIGKILL)
        let err = String(decoding: run.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, 1)
        XCTAssertTrue(err.contains("s failed: worker killed by SIGKILL (signal 9) at a peak of "), err)
        XCTAssertTrue(err.contains("MiB resident; SIGKILL is usually the kernel's out-of-memory killer"), err)
        // The worker could record nothing; the runner did, so `show` knows why.
        let show = try box.run(["show", "s"]).out
        XCTAssertTrue(show.contains("last failure at "), show)
        XCTAssertTrue(show.contains("worker killed by SIGKILL (signal 9)"), show)
    }

    func testCorruptObjectIsFoundByVerifyAndRecomputed() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run", "c"])
        try Self.corrupt(box, content: "A")
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
        try Self.corrupt(box, content: "B")
        box.resetExecutions()
        let run = try box.run(["run", "c", "--force"])
        XCTAssertEqual(run.status, 0, run.all)
        XCTAssertTrue(run.err.contains("is corrupt (its bytes hash to "), run.err)
        XCTAssertTrue(run.err.contains("; quarantined to "), run.err)
        XCTAssertEqual(box.executions, ["b", "c"], "the producer of the corrupt input runs again, then c")
        XCTAssertEqual(try box.run(["cat", "c:out.txt"]).out, "A+B\n")
    }

    func testSecondRunWaitsOrFailsWithNoWait() throws {
        let box = try Sandbox(Self.holdPipeline)
        let first = try box.start(["run"], env: box.waitEnv)
        _ = try box.waitForWorker()
        let refused = try box.run(["run", "--no-wait"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("the cache is in use by another run (pid \(first.process.processIdentifier)"), refused.err)
        let waiting = try box.start(["run"], env: box.waitEnv)
        // Released only once the second run says it waits: the first cannot have finished before.
        var err = box.readOutput(waiting.err, until: "waiting for another run (pid \(first.process.processIdentifier)")
        XCTAssertTrue(err.contains("waiting for another run (pid \(first.process.processIdentifier)"), err)
        box.release()
        err += String(decoding: waiting.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        waiting.process.waitUntilExit()
        XCTAssertEqual(waiting.process.terminationStatus, 0, err)
        XCTAssertTrue(err.contains("ran 0, cached 3"), "the waiting run finds everything done: \(err)")
        first.process.waitUntilExit()
        XCTAssertEqual(box.executions, ["a", "s", "t"])
    }

    /// A lock really held by a run that is then killed (SIGKILL: no chance to release it) is free for
    /// the next run, which does not wait even with --no-wait.
    func testStaleLockIsTakenOver() throws {
        let box = try Sandbox(Self.holdPipeline)
        let holder = try box.start(["run"], env: box.waitEnv)
        let worker = try box.waitForWorker()
        let refused = try box.run(["run", "--no-wait"])
        XCTAssertEqual(refused.status, 1, "the lock is really held: \(refused.all)")
        XCTAssertFalse(box.cacheLockIsFree)
        kill(holder.process.processIdentifier, SIGKILL)
        kill(worker, SIGKILL)
        holder.process.waitUntilExit()
        box.waitUntil("the killed worker to exit") { Sandbox.isGone(worker) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: box.cache.appendingPathComponent("lock.info").path),
                      "the killed holder could not clean up")
        box.release()
        let run = try box.run(["run", "--no-wait"], env: box.waitEnv)
        XCTAssertEqual(run.status, 0, run.all)
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.cache.appendingPathComponent("lock.info").path))
        XCTAssertTrue(box.cacheLockIsFree)
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

    /// A stage reads its inputs through the descriptors its worker verified: an object swapped for a
    /// symlink to another file after the check (while the stage runs) is not what the stage reads.
    func testAnInputSwappedAfterTheCheckIsNotRead() throws {
        let box = try Sandbox(Self.holdPipeline.replacingOccurrences(of: #""kind": "test-hold""#,
                                                                       with: #""kind": "test-hold", "params": {"readInput": true}"#))
        let run = try box.start(["run", "s"], env: box.waitEnv)
        _ = try box.waitForWorker()
        let object = try XCTUnwrap(box.objects().first { (try? String(contentsOf: $0, encoding: .utf8)) == "A" })
        let planted = box.directory.appendingPathComponent("planted.txt")
        try Data("planted".utf8).write(to: planted)
        XCTAssertEqual(unlink(object.path), 0)
        XCTAssertEqual(symlink(planted.path, object.path), 0)
        box.release()
        let err = String(decoding: run.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, 0, err)
        XCTAssertEqual(try box.run(["cat", "s:out.txt"]).out, "waited:A\n", "the verified bytes were read, not the planted file")
    }

    /// gc deletes the lock files of stages nobody computes, but not the one an orphaned worker still
    /// holds (gc takes each lock before deleting its file); the orphan's stage then finishes as usual.
    func testGarbageCollectionRemovesIdleStageLocksButNotAHeldOne() throws {
        let box = try Sandbox(Self.holdPipeline)
        let orphan = try box.orphanAWorker()
        let locks = box.cache.appendingPathComponent("locks")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: locks.path).count, 2, "a's and s's")
        let gc = try box.run(["gc"])
        XCTAssertTrue(gc.out.contains("removed 1 lock file(s) of stages no worker is computing"), gc.all)
        let left = try FileManager.default.contentsOfDirectory(atPath: locks.path)
        XCTAssertEqual(left.count, 1)
        let holder = try String(contentsOf: locks.appendingPathComponent(left[0]), encoding: .utf8)
        XCTAssertTrue(holder.hasPrefix("pid \(orphan) "), "the held lock is the orphan's: \(holder)")
        box.release()
        box.waitUntil("the orphan to exit") { Sandbox.isGone(orphan) }
        let run = try box.run(["run"], env: box.waitEnv)
        XCTAssertEqual(run.status, 0, run.all)
        XCTAssertEqual(box.executions, ["a", "s", "t"], "s was computed once, by the orphan")
        XCTAssertEqual(try box.run(["gc"]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: locks.path), [], "no stage is running: every lock file goes")
    }

    /// Overwrites the object holding exactly `content`, as a failing disk would.
    static func corrupt(_ box: Sandbox, content: String) throws {
        let target = try XCTUnwrap(box.objects().first { (try? String(contentsOf: $0, encoding: .utf8)) == content })
        chmod(target.path, 0o644)
        try Data("Z".utf8).write(to: target)
    }
}
