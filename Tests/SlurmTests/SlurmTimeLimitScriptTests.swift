import Foundation
@testable import Cluster
@testable import Pipeline
import XCTest

/// The job script's time-limit handling, run by bash with stand-ins for the worker, squeue and scontrol:
/// no cluster needed, so every path (requeue, giving up, no limit, Slurm's own requeue) is checked in
/// seconds. `SlurmCampaignTests` checks the real thing against the test cluster.
final class SlurmTimeLimitScriptTests: XCTestCase {
    private struct Setup {
        let base: URL
        let jobs: URL
        let script: URL
        var log: URL { base.appendingPathComponent("scontrol.log") }
        var status: URL { SlurmJobScript.statusFile(key: "k0", in: jobs) }
        var output: String { (try? String(contentsOf: SlurmJobScript.outputFile(jobID: "42", index: 0, in: jobs), encoding: .utf8)) ?? "" }
        /// SIGTERM to the script and its worker, as Slurm sends it to every process of a job.
        func terminateJob(_ script: Process) throws {
            try TestProject.waitFor("the worker to start") { FileManager.default.fileExists(atPath: base.appendingPathComponent("worker.pid").path) }
            let text = try String(contentsOf: base.appendingPathComponent("worker.pid"), encoding: .utf8)
            kill(script.processIdentifier, SIGTERM)
            kill(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1, SIGTERM)
        }
    }

    /// `squeueLeft`: what the fake squeue says is left; `restartsNow`: what the fake `scontrol show job` says.
    private func setup(squeueLeft: String, restartsNow: Int, grace: Int = 18, maxRequeues: Int = 5, workerSeconds: Double = 8) throws -> Setup {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-timelimit-\(UUID().uuidString)")
        let jobs = base.appendingPathComponent("jobs"), bin = base.appendingPathComponent("bin")
        for dir in [jobs, bin] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        func tool(_ name: String, _ body: String) throws {
            let url = bin.appendingPathComponent(name)
            try Data("#!/bin/bash\n\(body)\n".utf8).write(to: url)
            chmod(url.path, 0o755)
        }
        // A checkpointable stage: on SIGTERM it "saves" and ends by the signal's status.
        let steps = Int(workerSeconds * 10)
        try tool("worker", "echo $$ > '\(base.path)/worker.pid'\ntrap 'echo worker saved its progress; exit 143' TERM\nfor i in $(seq \(steps)); do sleep 0.1; done\necho worker finished")
        try tool("squeue", "echo '\(squeueLeft)'")
        let log = base.appendingPathComponent("scontrol.log").path
        // `requeue` returns at once and Slurm ends the job a moment later (SIGKILL once KillWait is over).
        try tool("scontrol", """
        echo "$*" >> '\(log)'
        case "$1" in
          requeue) ( sleep 0.5; kill -KILL $PPID ) & exit 0 ;;
          show) echo "JobId=43 JobState=COMPLETING Restarts=\(restartsNow)" ;;
        esac
        """)
        let script = SlurmJobScript(worker: bin.appendingPathComponent("worker"), cache: base, directory: jobs, keys: ["k0"], stages: ["s"],
                                    timeLimit: .init(graceSeconds: grace, maxRequeues: maxRequeues))
        let url = jobs.appendingPathComponent("job.sh")
        try Data(script.text.utf8).write(to: url)
        return Setup(base: base, jobs: jobs, script: url)
    }

    private func start(_ setup: Setup, restarts: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [setup.script.path]
        p.environment = ["PATH": setup.base.appendingPathComponent("bin").path + ":/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "0",
                         "SLURM_ARRAY_JOB_ID": "42", "SLURM_JOB_ID": "43", "SLURM_RESTART_COUNT": "\(restarts)"]
        try p.run()
        return p
    }

    private func run(_ setup: Setup, restarts: Int) throws -> (status: Int32, seconds: Double) {
        let started = Date()
        let p = try start(setup, restarts: restarts)
        p.waitUntilExit()
        return (p.terminationStatus, Date().timeIntervalSince(started))
    }

    func testNearTheLimitTheStageSavesAndTheTaskRequeuesItselfWithoutAStatus() throws {
        let s = try setup(squeueLeft: "0:20", restartsNow: 0)
        let r = try run(s, restarts: 1)
        XCTAssertLessThan(r.seconds, 6, "stopped 18 s before a 20 s limit, not at the worker's end: \(s.output)")
        XCTAssertEqual(try String(contentsOf: s.log, encoding: .utf8), "requeue 42_0\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.status.path), "a requeued task has not ended: \(s.output)")
        XCTAssertTrue(s.output.contains("worker saved its progress"), s.output)
        XCTAssertTrue(s.output.contains("requeueing itself to resume (requeue 2 of at most 5)"), s.output)
        XCTAssertTrue(s.output.contains("stage k0 on "), s.output)
        XCTAssertTrue(s.output.contains(", run 2"), s.output)
    }

    func testAfterMaxRequeuesTheTaskFailsWithTheTimeLimit() throws {
        let s = try setup(squeueLeft: "0:20", restartsNow: 0, maxRequeues: 2)
        let r = try run(s, restarts: 2)
        XCTAssertEqual(r.status, 143)
        XCTAssertEqual(SlurmExecutor.exitStatus(s.status), 143)
        XCTAssertFalse(((try? String(contentsOf: s.log, encoding: .utf8)) ?? "").contains("requeue"))
        XCTAssertTrue(s.output.contains("time limit again after 2 requeues (--max-resubmits 2); giving up"), s.output)
    }

    func testWithoutALimitOrWithRequeuesOffTheStageRunsToItsEnd() throws {
        for (left, max) in [("UNLIMITED", 5), ("0:20", 0), ("", 5)] {
            let s = try setup(squeueLeft: left, restartsNow: 0, maxRequeues: max, workerSeconds: 3)
            let r = try run(s, restarts: 0)
            XCTAssertEqual(r.status, 0, "\(left), \(max): \(s.output)")
            XCTAssertEqual(SlurmExecutor.exitStatus(s.status), 0)
            XCTAssertTrue(s.output.contains("worker finished"), s.output)
        }
    }

    func testLongLimitsAreParsed() throws {
        // 1-00:00:30 is 86,430 s: with a grace of 86,400 s the timer fires 30 s in, so the worker (3 s) finishes first.
        let s = try setup(squeueLeft: "1-00:00:30", restartsNow: 0, grace: 86_400, workerSeconds: 3)
        XCTAssertEqual(try run(s, restarts: 0).status, 0, s.output)
        // 1:00:05 is 3,605 s: a grace of 3,603 s fires 2 s in.
        let t = try setup(squeueLeft: "1:00:05", restartsNow: 0, grace: 3_603)
        _ = try run(t, restarts: 0)
        XCTAssertTrue(t.output.contains("requeueing itself"), t.output)
    }

    func testWhenSlurmRequeuesTheJobNoFailureIsRecorded() throws {
        // Preemption or `scontrol requeue`: SIGTERM, and Slurm has already counted the restart.
        let s = try setup(squeueLeft: "UNLIMITED", restartsNow: 1)
        let p = try start(s, restarts: 0)
        Thread.sleep(forTimeInterval: 1)
        try s.terminateJob(p)
        p.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.status.path), s.output)
        XCTAssertTrue(s.output.contains("Slurm is requeueing the job"), s.output)

        // scancel: the same SIGTERM, no restart counted: the stage failed, and says so.
        let c = try setup(squeueLeft: "UNLIMITED", restartsNow: 0)
        let q = try start(c, restarts: 0)
        Thread.sleep(forTimeInterval: 1)
        try c.terminateJob(q)
        q.waitUntilExit()
        XCTAssertEqual(SlurmExecutor.exitStatus(c.status), 143, c.output)
        XCTAssertTrue(c.output.contains("the stage ended by SIGTERM"), c.output)
    }
}
