import Foundation
import Cluster
import Pipeline
import XCTest

/// `bnrepro run --executor slurm` against a real cluster (scripts/slurm-test-cluster.sh), compared with
/// `--executor local`. Every test skips when no controller answers.
final class SlurmExecutorTests: XCTestCase {
    static let matrixPipeline = """
    {
      "stages": [
        {"name": "words", "kind": "test-write", "params": {"text": "w"}, "matrix": {"text": ["a", "b", "c"]}},
        {"name": "join", "kind": "test-concat", "deps": ["words"]},
        {"name": "solo", "kind": "test-write", "params": {"text": "solo", "repeat": 2}}
      ]
    }
    """

    let slurm = ["run", "--executor", "slurm", "--slurm-poll", "0.1"]

    func testMatrixIsOneJobArrayAndKeysAndOutputsEqualLocal() throws {
        let project = try TestProject(pipeline: Self.matrixPipeline, env: try TestCluster.environment())
        let viaSlurm = project.cache("slurm-cache"), viaLocal = project.cache("local-cache")

        let s = try project.run(slurm + ["--cache", viaSlurm.path])
        XCTAssertEqual(s.status, 0, s.err)
        let l = try project.run(["run", "-j", "2", "--cache", viaLocal.path])
        XCTAssertEqual(l.status, 0, l.err)

        let slurmRecords = try TestProject.records(viaSlurm), localRecords = try TestProject.records(viaLocal)
        XCTAssertEqual(slurmRecords.count, 5)
        XCTAssertEqual(Set(slurmRecords.keys), Set(localRecords.keys), "the same stages must have the same keys")
        for (key, record) in slurmRecords {
            XCTAssertEqual(record.outputs, localRecords[key]?.outputs, "outputs of \(record.stage)")
            XCTAssertEqual(record.executor, "slurm")
            XCTAssertEqual(localRecords[key]?.executor, "local")
        }
        // The three matrix runs went to Slurm as one array of three tasks.
        let arrays = TestProject.jobDirectories(viaSlurm, group: "words")
        XCTAssertEqual(arrays.count, 1)
        let script = try String(contentsOf: arrays[0].appendingPathComponent("job.sh"), encoding: .utf8)
        XCTAssertEqual(script.components(separatedBy: "  # words@text=").count - 1, 3, script)
        let submission = try String(contentsOf: arrays[0].appendingPathComponent("sbatch.txt"), encoding: .utf8)
        XCTAssertTrue(submission.contains("'--array=0-2'"), submission)

        // Caches are interchangeable: each executor finds the other's results and runs nothing.
        let before = project.executions.count
        let again = try project.run(slurm + ["--cache", viaLocal.path])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.err.contains("ran 0, cached 5"), again.err)
        XCTAssertTrue(TestProject.jobDirectories(viaLocal, group: "words").isEmpty, "nothing may be submitted")
        let back = try project.run(["run", "--cache", viaSlurm.path])
        XCTAssertTrue(back.err.contains("ran 0, cached 5"), back.err)
        XCTAssertEqual(project.executions.count, before)
    }

    func testFailedJobIsReportedWithJobIDExitCodeAndLogTail() throws {
        let project = try TestProject(pipeline: """
        {"stages": [
          {"name": "fine", "kind": "test-write", "params": {"text": "ok"}},
          {"name": "broken", "kind": "test-fail", "params": {"message": "loss is NaN at step 7"}},
          {"name": "after", "kind": "test-concat", "deps": ["broken"]}
        ]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let r = try project.run(slurm + ["--keep-going", "--cache", cache.path])
        XCTAssertEqual(r.status, 1)
        let line = try XCTUnwrap(r.err.split(separator: "\n").first { $0.contains("FAILED broken") }, r.err)
        XCTAssertNotNil(line.range(of: #"Slurm job [0-9]+_0 exited with status 1: loss is NaN at step 7"#, options: .regularExpression), String(line))
        XCTAssertTrue(r.err.contains("│ about to fail"), "the log tail: \(r.err)")
        XCTAssertTrue(r.err.contains("skipped after"), r.err)
        XCTAssertTrue(r.err.contains("failed 1 (broken)"), r.err)
        XCTAssertEqual(try TestProject.records(cache).values.map(\.stage), ["fine"], "--keep-going finishes the independent stage")
    }

    func testJobWhoseWorkerCannotStartReportsItsOutput() throws {
        let project = try TestProject(pipeline: #"{"stages": [{"name": "lonely", "kind": "test-write", "params": {"text": "x"}}]}"#,
                                      env: try TestCluster.environment())
        let r = try project.run(slurm + ["--slurm-worker", "/nonexistent/bnrepro", "--cache", project.cache("cache").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertNotNil(r.err.range(of: #"FAILED lonely failed: Slurm job [0-9]+_0 exited with status 127 \(job output: "#,
                                    options: .regularExpression), r.err)
        XCTAssertTrue(r.err.contains("/nonexistent/bnrepro: No such file or directory"), r.err)
    }

    /// A long stage under way: the running command, its job id, and the project.
    private func startLongStage() throws -> (TestProject, RunningCommand, String) {
        let project = try TestProject(pipeline: #"{"stages": [{"name": "long", "kind": "test-sleep", "params": {"seconds": 60}}]}"#,
                                      env: try TestCluster.environment())
        let cache = project.cache("cache")
        let started = project.directory.appendingPathComponent("long-started")
        let run = try project.start(slurm + ["--slurm-lost-after", "0.5", "--cache", cache.path],
                                    extraEnv: ["BNREPRO_TEST_STARTED": started.path])
        try TestProject.waitFor("the long stage to start") { FileManager.default.fileExists(atPath: started.path) }
        let jobID = try String(contentsOf: try XCTUnwrap(TestProject.jobDirectories(cache, group: "long").first)
            .appendingPathComponent("job-id"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (project, run, jobID)
    }

    func testJobCancelledFromOutsideIsReportedWithItsSignal() throws {
        let (project, run, jobID) = try startLongStage()
        _ = SlurmClient(environment: project.env).cancel(jobIDs: [jobID])   // as an admin or a time limit would
        let r = try run.wait(timeout: 30)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("FAILED long failed: Slurm job \(jobID)_0 exited with status 143 (signal 15: cancelled or out of time)"), r.err)
        XCTAssertTrue(r.err.contains("│ bnrepro job \(jobID)_0: the stage ended by SIGTERM (scancel, time limit or requeue)"), r.err)
    }

    func testJobThatDiesWithoutAnExitStatusIsReportedAsLost() throws {
        let (project, run, jobID) = try startLongStage()
        // SIGKILL to the batch script and the worker: nothing is left to write the exit status.
        let pids = try SlurmClient(environment: project.env).run("scontrol", ["listpids", jobID]).out
            .split(separator: "\n").dropFirst().compactMap { Int32($0.split(separator: " ").first ?? "") }
        guard !pids.isEmpty else {
            run.interrupt()
            _ = try run.wait()
            throw TestCluster.skipUnlessRequired("scontrol lists no process of job \(jobID) here (it runs on another node)")
        }
        for pid in pids { kill(pid, SIGKILL) }
        let r = try run.wait(timeout: 30)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("FAILED long failed: Slurm job \(jobID)_0 left the queue without writing its exit status"), r.err)
        XCTAssertTrue(r.err.contains("│ bnrepro job \(jobID)_0: stage "), "the job output's tail: \(r.err)")
    }

    func testCacheDirectoryWithShellMetacharactersNeitherBreaksAJobNorRunsAnything() throws {
        let hostile = #"cache dir $(touch pwned) `touch pwned2` 'single' "double" %j %x ; & | x"#
        let project = try TestProject(pipeline: Self.matrixPipeline, env: try TestCluster.environment(),
                                      directoryName: "project $(touch pwned3) 'q'")
        let cache = project.cache(hostile)
        let r = try project.run(slurm + ["--cache", cache.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try TestProject.records(cache).count, 5)
        let places = [project.directory, project.directory.deletingLastPathComponent(), cache, URL(fileURLWithPath: "/")]
            + TestProject.jobDirectories(cache, group: "words") + TestProject.jobDirectories(cache, group: "join")
        for place in places {
            for name in ["pwned", "pwned2", "pwned3"] {
                XCTAssertFalse(FileManager.default.fileExists(atPath: place.appendingPathComponent(name).path), "\(name) in \(place.path)")
            }
        }
    }

    func testInterruptCancelsTheRunsJobsAndARerunSubmitsOnlyWhatIsMissing() throws {
        let project = try TestProject(pipeline: """
        {"stages": [
          {"name": "quick", "kind": "test-write", "params": {"text": "q"}},
          {"name": "slow", "kind": "test-hold"}
        ]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let started = project.directory.appendingPathComponent("slow-started")
        // Held until released, not a fixed sleep: quick and slow run side by side, and on a loaded machine
        // quick's status could appear after a short sleep had already ended.
        let release = project.directory.appendingPathComponent("release")
        let env = ["BNREPRO_TEST_STARTED": started.path, "BNREPRO_TEST_RELEASE": release.path]
        let run = try project.start(slurm + ["--cache", cache.path], extraEnv: env)
        try TestProject.waitFor("the slow stage to start and the quick one to finish") {
            FileManager.default.fileExists(atPath: started.path)
                && TestProject.jobDirectories(cache, group: "quick").contains { dir in
                    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).contains { $0.hasSuffix(".status") }
                }
        }
        let slowJob = try String(contentsOf: try XCTUnwrap(TestProject.jobDirectories(cache, group: "slow").first)
            .appendingPathComponent("job-id"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        run.interrupt()
        let r = try run.wait(timeout: 30)
        XCTAssertEqual(r.status, 130, r.err)
        // Quick's array may be listed too when the run had not yet read its status file: cancelling a finished job is harmless.
        let cancelling = try XCTUnwrap(r.err.split(separator: "\n").first { $0.contains("interrupted; cancelling Slurm job") }, r.err)
        XCTAssertTrue(cancelling.split(whereSeparator: { $0 == " " || $0 == "," }).contains(Substring(slowJob)), r.err)
        try TestProject.waitFor("job \(slowJob) to leave the queue", timeout: 20) {
            TestCluster.queued(slowJob, env: project.env).isEmpty
        }
        XCTAssertEqual(try TestProject.records(cache).values.map(\.stage), ["quick"])

        try Data().write(to: release)
        let rerun = try project.run(slurm + ["--cache", cache.path], extraEnv: env)
        XCTAssertEqual(rerun.status, 0, rerun.err)
        XCTAssertTrue(rerun.err.contains("cached quick"), rerun.err)
        XCTAssertTrue(rerun.err.contains("ran 1, cached 1"), rerun.err)
        XCTAssertEqual(TestProject.jobDirectories(cache, group: "quick").count, 1, "quick was not submitted again")
        XCTAssertEqual(TestProject.jobDirectories(cache, group: "slow").count, 2)
        XCTAssertEqual(project.executions.filter { $0 == "quick" }.count, 1)
    }

    func testResourcesFromPipelineSetAndCommandLineReachSbatch() throws {
        let project = try TestProject(pipeline: """
        {"stages": [
          {"name": "words", "kind": "test-write", "params": {"text": "w"}, "matrix": {"text": ["a", "b", "c"]},
           "resources": {"cpus": 1, "mem": "100M", "time": 5, "sbatchArgs": ["--comment=from-pipeline"]}},
          {"name": "plain", "kind": "test-write", "params": {"text": "p"}}
        ]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let r = try project.run(slurm + ["--set", "words.resources.time=7", "--slurm-mem", "200M", "--array-throttle", "2",
                                         "--sbatch-arg=--comment=from-cli", "--cache", cache.path])
        XCTAssertEqual(r.status, 0, r.err)
        let words = try String(contentsOf: try XCTUnwrap(TestProject.jobDirectories(cache, group: "words").first)
            .appendingPathComponent("sbatch.txt"), encoding: .utf8)
        for option in ["'--array=0-2%2'", "'--cpus-per-task=1'", "'--mem=200M'", "'--time=7'", "'--comment=from-pipeline' '--comment=from-cli'"] {
            XCTAssertTrue(words.contains(option), "\(option) in \(words)")
        }
        let plain = try String(contentsOf: try XCTUnwrap(TestProject.jobDirectories(cache, group: "plain").first)
            .appendingPathComponent("sbatch.txt"), encoding: .utf8)
        XCTAssertTrue(plain.contains("'--mem=200M'") && !plain.contains("--time"), plain)

        let refused = try project.run(slurm + ["--slurm-partition", "no-such-partition", "--cache", project.cache("other").path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("sbatch refused the job for 'words' (3 stages)"), refused.err)
        XCTAssertTrue(refused.err.lowercased().contains("invalid partition"), refused.err)
    }

    func testTwoRunsOnOneCacheComputeEachStageOnce() throws {
        let project = try TestProject(pipeline: """
        {"stages": [{"name": "nap", "kind": "test-sleep", "params": {"seconds": 1}, "matrix": {"text": ["x", "y"]}}]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let first = try project.start(slurm + ["--cache", cache.path])
        let second = try project.start(slurm + ["--cache", cache.path])
        let a = try first.wait(), b = try second.wait()
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssertEqual(b.status, 0, b.err)
        XCTAssertEqual(project.executions.sorted(), ["nap@text=x", "nap@text=y"])
        XCTAssertEqual(Set([a.err, b.err].map { $0.contains("ran 2, cached 0") }), [true, false])
        XCTAssertEqual(try TestProject.records(cache).count, 2)
        // The stage's own progress, read from the job's output as it grows.
        XCTAssertTrue((a.err + b.err).contains("nap@text=x: step 10/10"), a.err + b.err)
    }
}
