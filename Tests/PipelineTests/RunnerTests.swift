import Foundation
import XCTest

/// The real runner through the real CLI: caching, invalidation, profiles, --force, failures.
final class RunnerTests: XCTestCase {
    func testStageRunsOnceAndIsReused() throws {
        let box = try Sandbox(basicPipeline)
        let first = try box.run(["run", "-j", "2"])
        XCTAssertEqual(first.status, 0, first.all)
        XCTAssertEqual(box.executions.sorted(), ["a", "b", "c", "m@bn=false,lr=0.0001", "m@bn=false,lr=0.1", "m@bn=true,lr=0.0001", "m@bn=true,lr=0.1"])
        XCTAssertEqual(try String(contentsOf: box.directory.appendingPathComponent("figures/out.txt"), encoding: .utf8), "A+B",
                       "published output")
        box.resetExecutions()
        let second = try box.run(["run"])
        XCTAssertEqual(second.status, 0)
        XCTAssertEqual(box.executions, [], "nothing reruns")
        XCTAssertTrue(second.err.contains("ran 0, cached 7"), second.err)
    }

    func testParamChangeRerunsTheStageAndItsDependentsOnly() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run"])
        box.resetExecutions()
        try box.write(basicPipeline.replacingOccurrences(of: #""text": "B""#, with: #""text": "BB""#))
        let status = try box.run(["status"])
        XCTAssertTrue(status.out.contains("stale       b\n                - param text changed from \"B\" to \"BB\""), status.out)
        XCTAssertTrue(status.out.contains("stale       c\n                - needs b, which is not up to date"), status.out)
        XCTAssertTrue(status.out.contains("up to date  a"), status.out)
        let dry = try box.run(["run", "--dry-run"])
        XCTAssertTrue(dry.err.contains("would run    b  (param text changed from \"B\" to \"BB\")"), dry.err)
        XCTAssertEqual(box.executions, [], "a dry run runs nothing")
        try box.run(["run"])
        XCTAssertEqual(box.executions, ["b", "c"])
        XCTAssertEqual(try String(contentsOf: box.directory.appendingPathComponent("figures/out.txt"), encoding: .utf8), "A+BB")
    }

    func testSwitchingProfileAndBackReuses() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run", "c"])
        box.resetExecutions()
        try box.run(["run", "c", "--profile", "long"])
        XCTAssertEqual(box.executions, ["a", "c"])
        box.resetExecutions()
        try box.run(["run", "c"])
        try box.run(["run", "c", "--profile", "long"])
        try box.run(["run", "c", "--set", "a.params.repeat=3"])
        XCTAssertEqual(box.executions, [], "both profiles, and the same values given by --set, are cached")
    }

    func testForceRerunsOnlyTheTargets() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run"])
        box.resetExecutions()
        try box.run(["run", "c", "--force"])
        XCTAssertEqual(box.executions, ["c"])
        box.resetExecutions()
        try box.run(["run", "m", "--force", "-j", "2"])
        XCTAssertEqual(box.executions.count, 4, "a matrix group forces all its members")
    }

    func testFailureStopsDependentsAndKeepGoingFinishesOthers() throws {
        let box = try Sandbox("""
        {"stages": [
          {"name": "bad", "kind": "test-fail", "params": {"message": "the loss exploded"}},
          {"name": "after", "kind": "test-concat", "deps": ["bad"]},
          {"name": "other", "kind": "test-write", "params": {"text": "x"}}
        ]}
        """)
        let stop = try box.run(["run"])
        XCTAssertNotEqual(stop.status, 0)
        XCTAssertTrue(stop.err.contains("bad failed: the loss exploded"), stop.err)
        XCTAssertTrue(stop.err.contains("│ about to fail"), "the log tail is shown: \(stop.err)")
        XCTAssertEqual(box.executions, ["bad"], "nothing new starts after a failure")
        box.resetExecutions()
        let going = try box.run(["run", "--keep-going"])
        XCTAssertNotEqual(going.status, 0)
        XCTAssertEqual(Set(box.executions), ["bad", "other"])
        XCTAssertTrue(going.err.contains("skipped after: a stage it needs failed"), going.err)
        let show = try box.run(["show", "bad"])
        XCTAssertTrue(show.out.contains("last failure"), show.out)
        XCTAssertTrue(show.out.contains("the loss exploded"), show.out)
    }

    func testUnknownTargetSuggests() throws {
        let box = try Sandbox(basicPipeline)
        let r = try box.run(["run", "cc"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("no stage named 'cc'; did you mean 'c'?"), r.err)
    }
}

final class LatestRunTests: XCTestCase {
    /// `cat` and `show` of a stale stage show the run the user last brought it up to date with, even
    /// when that run was a cache hit.
    func testACachedRunBecomesTheLatest() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run", "a"])
        try box.run(["run", "a", "--profile", "long"])
        try box.run(["run", "a"])
        let cat = try box.run(["cat", "a:out.txt", "--set", "a.params.text=Z"])
        XCTAssertEqual(cat.out, "A\n", "the quick run (cached) is the latest, not the long one")
        XCTAssertTrue(cat.err.contains("not up to date; showing its last successful run"), cat.err)
    }
}
