import Foundation
@testable import Cluster
@testable import Pipeline
import XCTest

/// Detached campaigns (`run --executor slurm --detach`) and time limits on the real test cluster.
final class SlurmCampaignTests: XCTestCase {
    let detach = ["run", "--executor", "slurm", "--detach"]

    static let chain = """
    {"stages": [
      {"name": "words", "kind": "test-write", "params": {"text": "w"}, "matrix": {"text": ["a", "b", "c"]}},
      {"name": "join", "kind": "test-concat", "deps": ["words"], "publish": "figures"},
      {"name": "solo", "kind": "test-write", "params": {"text": "solo"}},
      {"name": "last", "kind": "test-concat", "deps": ["join", "solo"]}
    ]}
    """

    private func campaignID(_ text: String) throws -> String {
        let match = try XCTUnwrap(text.range(of: #"campaign [0-9T]+-[0-9a-f]+:"#, options: .regularExpression), text)
        return String(text[match].dropFirst("campaign ".count).dropLast())
    }

    private func campaign(_ cache: URL, _ id: String) throws -> [String: Any] {
        let data = try Data(contentsOf: cache.appendingPathComponent("campaigns/\(id)/campaign.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testDetachedCampaignSubmitsEverythingAtOnceAndComputesWhatAWaitingRunDoes() throws {
        let project = try TestProject(pipeline: Self.chain, env: try TestCluster.environment())
        let cache = project.cache("detached"), local = project.cache("local")
        let started = Date()
        let r = try project.run(detach + ["--cache", cache.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the submitting process does not wait for the jobs")
        let id = try campaignID(r.err)
        XCTAssertTrue(r.err.contains("submitted 6 stages in 4 jobs, cached 0"), r.err)
        // Dependent arrays wait for their inputs' jobs: join for the whole words array, last for join and solo.
        let jobs = try XCTUnwrap(try campaign(cache, id)["jobs"] as? [[String: Any]])
        let jobOf = Dictionary(uniqueKeysWithValues: jobs.map { ($0["group"] as? String ?? "", $0) })
        let wordsJob = try XCTUnwrap(jobOf["words"]?["jobID"] as? String)
        XCTAssertEqual(jobOf["join"]?["dependency"] as? String, "afterok:\(wordsJob)")
        let lastDependency = try XCTUnwrap(jobOf["last"]?["dependency"] as? String)
        for group in ["join", "solo"] {
            XCTAssertTrue(lastDependency.contains(try XCTUnwrap(jobOf[group]?["jobID"] as? String)), lastDependency)
        }
        XCTAssertNil(jobOf["words"]?["dependency"] as? String)

        try TestProject.waitFor("the campaign to finish", timeout: 90) { ((try? TestProject.records(cache).count) ?? 0) == 6 }
        // A job writes its stage's record before it exits and its exit status is seen: the campaign's own
        // count follows a moment later (once, "5 done, 1 running" with all 6 records there).
        try TestProject.waitFor("the campaign to count its jobs done", timeout: 30) {
            ((try? project.run(["status", "--cache", cache.path]))?.out ?? "").contains("campaign \(id) [profile default]: 6 done")
        }
        let status = try project.run(["status", "--cache", cache.path])
        XCTAssertTrue(status.out.contains("6 up to date"), status.out)
        XCTAssertTrue(status.out.contains("campaign \(id) [profile default]: 6 done"), status.out)
        // A job published its own figure, as a waiting run does.
        XCTAssertEqual(try String(contentsOf: project.directory.appendingPathComponent("figures/out.txt"), encoding: .utf8), "a+b+c")

        let l = try project.run(["run", "-j", "2", "--cache", local.path])
        XCTAssertEqual(l.status, 0, l.err)
        let viaCampaign = try TestProject.records(cache), viaLocal = try TestProject.records(local)
        XCTAssertEqual(Set(viaCampaign.keys), Set(viaLocal.keys), "each job resolved the key a waiting run computes")
        for (key, record) in viaCampaign { XCTAssertEqual(record.outputs, viaLocal[key]?.outputs, record.stage) }

        // A job started again (a requeue after it finished, a second campaign) finds its key cached and computes nothing.
        let before = project.executions.count
        let again = try project.run(["exec", "--campaign", cache.appendingPathComponent("campaigns/\(id)/snapshot.json").path,
                                     "--stage", "last", "--cache", cache.path])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("stage last is already cached"), again.out)
        XCTAssertEqual(project.executions.count, before)
        let nothing = try project.run(detach + ["--cache", cache.path])
        XCTAssertTrue(nothing.err.contains("nothing to submit, cached 6"), nothing.err)
    }

    /// A detached campaign of a stage held until the test releases it, and one that waits for it; returns once
    /// the held stage runs, with what the test needs to release it and run again.
    private func startHeldCampaign() throws -> (TestProject, URL, URL, [String: String], String) {
        let project = try TestProject(pipeline: """
        {"stages": [
          {"name": "held", "kind": "test-hold"},
          {"name": "after", "kind": "test-concat", "deps": ["held"]}
        ]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let started = project.directory.appendingPathComponent("held-started")
        let release = project.directory.appendingPathComponent("release")
        let env = ["BNREPRO_TEST_STARTED": started.path, "BNREPRO_TEST_RELEASE": release.path]
        let first = try project.run(detach + ["--cache", cache.path], extraEnv: env)
        XCTAssertEqual(first.status, 0, first.err)
        let id = try campaignID(first.err)
        try TestProject.waitFor("the held stage to start") { FileManager.default.fileExists(atPath: started.path) }
        return (project, cache, release, env, id)
    }

    func testRerunAdoptsQueuedJobsAndCancelStopsThem() throws {
        let (project, cache, release, env, firstID) = try startHeldCampaign()

        // Running and pending (waiting for it): both adopted, nothing submitted again.
        let second = try project.run(detach + ["--cache", cache.path], extraEnv: env)
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertTrue(second.err.contains("submitted 0 stages in 0 jobs, adopted 2 still queued or running"), second.err)
        XCTAssertEqual(TestProject.jobDirectories(cache, group: "held").count, 1)
        let status = try project.run(["status", "--cache", cache.path])
        XCTAssertNotNil(status.out.range(of: #"slurm job [0-9]+_0 running on \S+, campaign "# + firstID, options: .regularExpression), status.out)
        XCTAssertNotNil(status.out.range(of: #"slurm job [0-9]+_0 pending \(Dependency\), campaign "# + firstID, options: .regularExpression), status.out)
        XCTAssertTrue(status.out.contains("campaign \(firstID) [profile default]: 1 running, 1 pending"), status.out)

        // gc would remove what the jobs read (a campaign's stages need not be reachable from any profile).
        let gc = try project.run(["gc", "--cache", cache.path])
        XCTAssertNotEqual(gc.status, 0)
        XCTAssertTrue(gc.err.contains("campaign \(firstID) still has Slurm jobs pending or running"), gc.err)

        let cancel = try project.run(["cancel", "--cache", cache.path])
        XCTAssertEqual(cancel.status, 0, cancel.err)
        XCTAssertTrue(cancel.out.contains("campaign \(firstID): cancelled jobs"), cancel.out)
        XCTAssertTrue(cancel.out.contains("(1 running, 1 pending)"), cancel.out)
        let heldJob = try String(contentsOf: try XCTUnwrap(TestProject.jobDirectories(cache, group: "held").first)
            .appendingPathComponent("job-id"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try TestProject.waitFor("the campaign's jobs to leave the queue", timeout: 30) { TestCluster.queued(heldJob, env: project.env).isEmpty }
        let after = try project.run(["status", "--cache", cache.path])
        XCTAssertTrue(after.out.contains("cancelled while it ran, campaign \(firstID)"), after.out)
        XCTAssertTrue(after.out.contains("cancelled before it started, campaign \(firstID)"), after.out)
        XCTAssertTrue(try TestProject.records(cache).isEmpty)
        XCTAssertEqual(try project.run(["gc", "--cache", cache.path]).status, 0, "once cancelled, gc runs")

        // A cancelled campaign is not adopted: the next one submits both stages, and they finish.
        try Data().write(to: release)
        let third = try project.run(detach + ["--cache", cache.path], extraEnv: env)
        XCTAssertTrue(third.err.contains("submitted 2 stages in 2 jobs, cached 0"), third.err)
        try TestProject.waitFor("the new campaign to finish", timeout: 60) { ((try? TestProject.records(cache).count) ?? 0) == 2 }
    }

    func testWaitingRunFollowsACampaignsJobInsteadOfSubmittingItAgain() throws {
        let (project, cache, release, env, id) = try startHeldCampaign()

        let waiting = try project.start(["run", "--executor", "slurm", "--slurm-poll", "0.2", "--cache", cache.path], extraEnv: env)
        Thread.sleep(forTimeInterval: 2)
        try Data().write(to: release)
        let r = try waiting.wait(timeout: 60)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("following Slurm job") && r.err.contains("of campaign \(id)"), r.err)
        XCTAssertEqual(TestProject.jobDirectories(cache, group: "held").count, 1, "held was not submitted again")
        XCTAssertEqual(project.executions.filter { $0 == "held" }.count, 1)
        XCTAssertEqual(try TestProject.records(cache).count, 2)
    }

    /// The issue's test: a stage that needs three minutes under a one-minute time limit finishes after
    /// requeues, detached, with the bytes an uninterrupted run writes.
    func testStageLongerThanTheTimeLimitFinishesAfterRequeuesWithTheUninterruptedResult() throws {
        let project = try TestProject(pipeline: """
        {"stages": [{"name": "long", "kind": "test-slowsum", "params": {"steps": 180, "stepSeconds": 1}}]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let r = try project.run(detach + ["--slurm-time", "1", "--slurm-grace", "15", "--max-resubmits", "6", "--cache", cache.path])
        XCTAssertEqual(r.status, 0, r.err)
        try TestProject.waitFor("the long stage to finish", timeout: 480) { ((try? TestProject.records(cache).count) ?? 0) == 1 }
        let directory = try XCTUnwrap(TestProject.jobDirectories(cache, group: "long").first)
        let outputName = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasSuffix(".out") })
        let output = try String(contentsOf: directory.appendingPathComponent(outputName), encoding: .utf8)
        let requeues = output.components(separatedBy: "requeueing itself to resume").count - 1
        XCTAssertGreaterThanOrEqual(requeues, 3, "180 s of work in runs of under 60 s: \(output)")
        // The record is written by the worker; the status a moment later, by the script once the worker and its timer are done.
        let status = SlurmJobScript.statusFile(task: 0, in: directory)
        try TestProject.waitFor("the job's exit status") { FileManager.default.fileExists(atPath: status.path) }
        XCTAssertEqual(SlurmExecutor.exitStatus(status), 0, output)

        let reference = project.cache("reference")
        let l = try project.run(["run", "--set", "long.params.stepSeconds=0", "--cache", reference.path])
        XCTAssertEqual(l.status, 0, l.err)
        let interrupted = try XCTUnwrap(try TestProject.records(cache).values.first), whole = try XCTUnwrap(try TestProject.records(reference).values.first)
        XCTAssertEqual(interrupted.outputs["sum.txt"], whole.outputs["sum.txt"], "the same bytes as an uninterrupted run")
        XCTAssertEqual(project.executions.count, requeues + 2, "one execution per run, plus the reference")
    }

    /// Preemption with PreemptMode=REQUEUE, or an admin's `scontrol requeue`: a waiting run keeps following
    /// the task, which resumes and succeeds, instead of reporting the SIGTERM as a failure.
    func testRequeueBySlurmIsFollowedToTheEnd() throws {
        let project = try TestProject(pipeline: """
        {"stages": [{"name": "steady", "kind": "test-slowsum", "params": {"steps": 30, "stepSeconds": 0.2}}]}
        """, env: try TestCluster.environment())
        let cache = project.cache("cache")
        let run = try project.start(["run", "--executor", "slurm", "--slurm-poll", "0.2", "--cache", cache.path])
        try TestProject.waitFor("the stage to start") { project.executions.count == 1 }
        Thread.sleep(forTimeInterval: 1.5)
        let jobID = try String(contentsOf: try XCTUnwrap(TestProject.jobDirectories(cache, group: "steady").first)
            .appendingPathComponent("job-id"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let requeue = try SlurmClient(environment: project.env).run("scontrol", ["requeue", "\(jobID)_0"])
        XCTAssertEqual(requeue.status, 0, requeue.detail)
        let r = try run.wait(timeout: 120)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(project.executions.count, 2, "stopped once, resumed once")
        let log = try project.run(["show", "steady", "--log-lines", "50", "--cache", cache.path])
        XCTAssertNotNil(log.out.range(of: #"starting at step [1-9]"#, options: .regularExpression), "it resumed from its saved step: \(log.out)")
    }
}
