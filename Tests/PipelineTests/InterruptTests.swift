import Foundation
import XCTest

/// Signals to a local run, and the per-stage lock that keeps two workers off one stage. Every wait is
/// on an event (a file appearing, a line of output, a process exiting), never on the clock.
final class InterruptTests: XCTestCase {
    /// What the tests check after a run was stopped by `sig`.
    private func stop(with sig: Int32, expecting status: Int32, pipeline: String = FaultTests.holdPipeline) throws
        -> (box: Sandbox, worker: Int32, err: String) {
        let box = try Sandbox(pipeline)
        let run = try box.start(["run"], env: box.waitEnv)
        let worker = try box.waitForWorker()
        kill(run.process.processIdentifier, sig)
        if !box.waitUntil("the run to exit after \(sig)", timeout: 60, { !run.process.isRunning }) {
            kill(run.process.processIdentifier, SIGKILL)
            kill(worker, SIGKILL)
        }
        let err = String(decoding: run.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, status, err)
        XCTAssertTrue(Sandbox.isGone(worker), "the worker (pid \(worker)) outlived its runner")
        XCTAssertTrue(box.cacheLockIsFree, "the cache lock is released")
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.cache.appendingPathComponent("lock.info").path))
        let tmp = try FileManager.default.contentsOfDirectory(atPath: box.cache.appendingPathComponent("tmp").path)
        XCTAssertEqual(tmp, [], "tmp/ is cleared")
        XCTAssertEqual(box.executions, ["a", "s"])
        return (box, worker, err)
    }

    func testSIGTERMStopsTheWorkersAndARerunRedoesOnlyTheInterruptedStage() throws {
        let (box, _, err) = try stop(with: SIGTERM, expecting: 143)
        XCTAssertTrue(err.contains("SIGTERM received; stopping 1 running stage"), err)
        XCTAssertTrue(err.contains("interrupted s (SIGTERM)"), err)
        XCTAssertFalse(err.contains("FAILED"), "an interrupted stage is not a failure: \(err)")
        XCTAssertTrue(err.contains("interrupted by SIGTERM: stopped s; ran 1, cached 0"), err)
        XCTAssertTrue(err.contains("the cache is consistent"), err)
        let status = try box.run(["status"]).out
        XCTAssertTrue(status.contains("never run   s\n                - last run interrupted "), status)
        XCTAssertTrue(status.contains(": interrupted by SIGTERM"), status)
        let show = try box.run(["show", "s"]).out
        XCTAssertTrue(show.contains("status   never run"), "an interruption is not a result:\n\(show)")
        XCTAssertTrue(show.contains("last run interrupted at ") && show.contains("interrupted by SIGTERM; nothing of it was kept"), show)
        box.resetExecutions()
        box.release()
        let again = try box.run(["run"], env: box.waitEnv)
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertEqual(box.executions, ["s", "t"], "only the interrupted stage and what follows it run")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    /// A signal this test process was started ignoring is ignored by the runner it starts too (as under
    /// `nohup`, on purpose): there is nothing to test then.
    private static func ignoredHere(_ sig: Int32) -> Bool {
        let previous = signal(sig, SIG_IGN)
        signal(sig, previous)
        return unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    func testSIGINTAndSIGHUPExitWith130And129() throws {
        let signals = [(SIGINT, Int32(130)), (SIGHUP, Int32(129))].filter { !Self.ignoredHere($0.0) }
        try XCTSkipIf(signals.isEmpty, "this test process ignores SIGINT and SIGHUP, and so would the runs it starts")
        for (sig, status) in signals {
            let (_, _, err) = try stop(with: sig, expecting: status)
            XCTAssertTrue(err.contains("interrupted s (\(sig == SIGINT ? "SIGINT" : "SIGHUP"))"), err)
        }
    }

    /// A stage that can save its progress (as `train` does) saves it on the runner's SIGTERM, inside the
    /// grace period, and ends by the signal; the rerun resumes from the step it saved.
    func testACheckpointableStageSavesItsStepOnSIGTERMAndTheRerunResumesThere() throws {
        let pipeline = FaultTests.holdPipeline.replacingOccurrences(of: #""kind": "test-hold""#,
                                                                    with: #""kind": "test-steps", "params": {"steps": 10, "holdAt": 4}"#)
        let (box, _, err) = try stop(with: SIGTERM, expecting: 143, pipeline: pipeline)
        XCTAssertTrue(err.contains("interrupted s (SIGTERM)"), err)
        XCTAssertFalse(err.contains("killed after 5 s"), "it saved and exited inside the grace period: \(err)")
        let saved = box.cache.appendingPathComponent("partials/s/step.txt")
        XCTAssertEqual(try String(contentsOf: saved, encoding: .utf8), "4")
        box.resetExecutions()
        let again = try box.run(["run"], env: box.waitEnv)
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertEqual(box.executions, ["s", "t"])
        XCTAssertEqual(try box.run(["cat", "s:out.txt"]).out.trimmingCharacters(in: .whitespacesAndNewlines), "resumed from 4")
    }

    /// A worker that ignores SIGTERM gets SIGKILL once the grace period is over.
    func testWorkerIgnoringSIGTERMIsKilledAfterTheGracePeriod() throws {
        let stubborn = FaultTests.holdPipeline.replacingOccurrences(of: #""kind": "test-hold""#,
                                                                     with: #""kind": "test-hold", "params": {"ignoreTerm": true}"#)
        let (_, _, err) = try stop(with: SIGTERM, expecting: 143, pipeline: stubborn)
        XCTAssertTrue(err.contains("killed after 5 s without exiting: s"), err)
        XCTAssertTrue(err.contains("interrupted s (SIGTERM)"), err)
    }

    /// A worker whose runner was killed outright still holds its stage: a second run's worker for the
    /// same stage waits for it and takes its result, so the stage is computed once.
    func testOrphanWorkerKeepsItsStageAndASecondRunWaitsForIt() throws {
        let box = try Sandbox(FaultTests.holdPipeline)
        let orphan = try box.orphanAWorker()
        XCTAssertFalse(Sandbox.isGone(orphan), "SIGKILL to the runner leaves its worker running")
        let second = try box.start(["run"], env: box.waitEnv)
        var err = box.readOutput(second.err, until: "is being computed by pid \(orphan)")
        XCTAssertTrue(err.contains("s: waiting: stage s is being computed by pid \(orphan)"), err)
        box.release()
        err += String(decoding: second.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.process.waitUntilExit()
        XCTAssertEqual(second.process.terminationStatus, 0, err)
        box.waitUntil("the orphan to exit") { Sandbox.isGone(orphan) }
        XCTAssertEqual(box.executions, ["a", "s", "t"], "s was computed once, by the orphan")
        XCTAssertTrue(err.contains("ran 2, cached 1"), err)
        XCTAssertEqual(try box.run(["cat", "s:out.txt"]).out, "waited\n")
    }
}
