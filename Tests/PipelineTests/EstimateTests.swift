import Foundation
@testable import Pipeline
import PipelineTestKinds
import XCTest

/// `bnrepro estimate`: calibration from the cache's records, the critical path and the simulated wall time.
final class EstimateTests: XCTestCase {
    func testWorkIsPricedFromTheRecordsOfItsKind() throws {
        let box = try Sandbox(#"{"stages": [{"name": "a", "kind": "test-spin", "params": {"work": 2}}]}"#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        let cpu = try XCTUnwrap(try box.run(["show", "a"]).out.split(separator: "\n").first { $0.hasPrefix("time") })
        // The same kind with three times the work, and a second stage after it: priced from a's record.
        try box.write(#"""
        {"stages": [{"name": "a", "kind": "test-spin", "params": {"work": 6}},
                    {"name": "b", "kind": "test-write", "deps": ["a"], "params": {"text": "x"}}]}
        """#)
        let out = try box.run(["estimate", "-j", "1"])
        XCTAssertEqual(out.status, 0, out.all)
        let row = try XCTUnwrap(out.out.split(separator: "\n").first { $0.contains(" a ") }, out.out)
        XCTAssertTrue(row.contains("records (1"), String(row))  // ", more threads" where the run gave it several
        XCTAssertTrue(out.out.contains("b ") && out.out.contains("no record"), out.out)
        XCTAssertTrue(out.out.contains("estimate: 2 stages to run"), out.out)

        let store = try CacheStore(existing: box.cache)
        let recorded = try XCTUnwrap(store.allRecordKeys().compactMap { store.record($0) }.first { $0.stage == "a" })
        let pipeline = try box.pipeline()
        let estimate = try CostEstimate(pipeline: pipeline, store: store, registry: TestKinds.registry, targets: ["a"])
        XCTAssertEqual(estimate.rows.map(\.stage), ["a"], "a target's closure only")
        XCTAssertEqual(estimate.rows[0].cpuSeconds, 3 * recorded.cpuSeconds, accuracy: 1e-9 + 1e-9 * recorded.cpuSeconds, "\(cpu)")
    }

    func testPeakMemoryIsTheLargestAmongTheMatchingRecords() throws {
        let box = try Sandbox(#"""
        {"stages": [{"name": "s1", "kind": "test-spin", "params": {"work": 0.05}},
                    {"name": "s2", "kind": "test-spin", "params": {"work": 0.1}},
                    {"name": "w", "kind": "test-write", "params": {"text": "x"}}]}
        """#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        // Planted peaks show which records each maximum is over: two of test-spin, and a larger one of
        // another kind that must never count.
        let mib: Int64 = 1 << 20
        try box.editRecord(ofStage: "s1") { $0["peakMemoryBytes"] = 100 * mib }
        try box.editRecord(ofStage: "s2") { $0["peakMemoryBytes"] = 300 * mib }
        try box.editRecord(ofStage: "w") { $0["peakMemoryBytes"] = 900 * mib }
        let store = try CacheStore(existing: box.cache)
        // A stage with a record's own params (as after a version bump, or with --force): that record only.
        let again = CostEstimate(pending: [try XCTUnwrap(try box.pipeline().stage("s1"))], store: store, registry: TestKinds.registry)
        XCTAssertEqual(again.rows[0].peakMemoryBytes, 100 * mib)
        XCTAssertEqual(again.rows[0].memoryRecords, 1)
        XCTAssertTrue(again.rows[0].memorySameParams)

        try box.write(#"""
        {"stages": [{"name": "w", "kind": "test-write", "params": {"text": "x"}},
                    {"name": "t", "kind": "test-spin", "params": {"work": 0.15}},
                    {"name": "u", "kind": "test-slowsum", "params": {"steps": 1}}]}
        """#)
        let estimate = try CostEstimate(pipeline: try box.pipeline(), store: store, registry: TestKinds.registry, targets: [])
        XCTAssertEqual(estimate.rows.map(\.stage), ["t", "u"])
        XCTAssertEqual(estimate.rows[0].peakMemoryBytes, 300 * mib, "no record with t's params: the largest of the kind's")
        XCTAssertEqual(estimate.rows[0].memoryRecords, 2)
        XCTAssertFalse(estimate.rows[0].memorySameParams)
        XCTAssertNil(estimate.rows[1].peakMemoryBytes, "no record of the kind: unknown, not guessed")
        XCTAssertEqual(estimate.largestPeakMemory?.stage, "t")

        let out = try box.run(["estimate"])
        XCTAssertEqual(out.status, 0, out.all)
        let t = try XCTUnwrap(out.out.split(separator: "\n").first { $0.hasPrefix("  t ") }, out.out)
        XCTAssertTrue(t.contains("300.0 MiB") && t.hasSuffix("other params, max of 2"), String(t))
        let u = try XCTUnwrap(out.out.split(separator: "\n").first { $0.hasPrefix("  u ") }, out.out)
        XCTAssertTrue(u.contains("—") && u.hasSuffix("none recorded"), String(u))
        XCTAssertTrue(out.out.contains("peak mem: the largest peak resident memory among the records of the stage's kind"), out.out)
        XCTAssertTrue(out.out.contains("; largest peak memory 300.0 MiB (t, other params, max of 2); 1 with unknown peak memory"), out.out)
    }

    /// Prices with planted CPU times and thread counts: records of the stage's own params first, then the
    /// kind's seconds per unit; records made with more threads only where none has one.
    func testOwnParamsComeFirstAndOneThreadRecordsPrice() throws {
        let box = try Sandbox(#"""
        {"stages": [{"name": "s1", "kind": "test-spin", "params": {"work": 0.05}},
                    {"name": "s2", "kind": "test-spin", "params": {"work": 0.1}},
                    {"name": "w", "kind": "test-write", "params": {"text": "x"}}]}
        """#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        try box.editRecord(ofStage: "s1") { $0["cpuSeconds"] = 100.0; $0["threads"] = 1 }  // 2,000 s per unit
        try box.editRecord(ofStage: "s2") { $0["cpuSeconds"] = 50.0; $0["threads"] = 1 }   // 500 s per unit
        try box.editRecord(ofStage: "w") { $0["cpuSeconds"] = 7.0; $0["threads"] = 2 }
        let store = try CacheStore(existing: box.cache)
        let pipeline = try box.pipeline()
        let again = CostEstimate(pending: [try XCTUnwrap(pipeline.stage("s1"))], store: store, registry: TestKinds.registry)
        XCTAssertEqual(again.rows[0].cpuSeconds, 100, "its own record, not work × a rate")
        XCTAssertEqual(again.rows[0].basis, "same params (1)")

        try box.write(#"""
        {"stages": [{"name": "t", "kind": "test-spin", "params": {"work": 0.2}},
                    {"name": "w", "kind": "test-write", "params": {"text": "y"}}]}
        """#)
        let other = try box.pipeline()
        let estimate = try CostEstimate(pipeline: other, store: store, registry: TestKinds.registry, targets: [])
        XCTAssertEqual(estimate.rows.map(\.stage), ["t", "w"])
        XCTAssertEqual(estimate.rows[0].cpuSeconds, 0.2 * 2000, accuracy: 1e-9, "the upper median of 500 and 2,000 s per unit")
        XCTAssertEqual(estimate.rows[0].basis, "records (2)")
        XCTAssertEqual(estimate.rows[1].cpuSeconds, 7, "a kind with records at 2 threads only is priced by them")
        XCTAssertEqual(estimate.rows[1].basis, "records (1, more threads)")
    }

    /// An engine record made with two threads counts as its wall time × the speedup measured at two
    /// threads, not its CPU time, which also counts the threads' spinning; the CPU time where it is less,
    /// or where nothing measures the speedup; a stage that runs no engine keeps its CPU time.
    func testRecordsAtMoreThreadsCountTheirWallTimesTheSpeedup() throws {
        let box = try Sandbox(#"""
        {"stages": [{"name": "a", "kind": "test-spin", "params": {"work": 0.1}},
                    {"name": "b", "kind": "test-spin", "params": {"work": 0.2}},
                    {"name": "w", "kind": "test-write", "params": {"text": "x"}}]}
        """#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        try box.editRecord(ofStage: "a") { $0["cpuSeconds"] = 70.0; $0["wallSeconds"] = 20.0; $0["threads"] = 2 }
        try box.editRecord(ofStage: "b") { $0["cpuSeconds"] = 30.0; $0["wallSeconds"] = 20.0; $0["threads"] = 2 }
        try box.editRecord(ofStage: "w") { $0["cpuSeconds"] = 7.0; $0["wallSeconds"] = 5.0; $0["threads"] = 2 }
        let store = try CacheStore(existing: box.cache)
        var registry = TestKinds.registry
        let asked = Counter()
        registry.measureSecondsPerWorkUnit = { threads in asked.add(threads); return threads == 1 ? 3e-3 : 1.2e-3 }  // 2.5×
        let pipeline = try box.pipeline(registry)
        let stages = try ["a", "b", "w"].map { try XCTUnwrap(pipeline.stage($0)) }

        let one = CostEstimate(pending: stages, store: store, registry: registry, threads: 1)
        XCTAssertEqual(one.rows[0].cpuSeconds, 50, accuracy: 1e-9, "20 s of wall × 2.5, below its 70 s of CPU")
        XCTAssertEqual(one.rows[1].cpuSeconds, 30, accuracy: 1e-9, "its CPU time, below 20 × 2.5")
        XCTAssertEqual(one.rows[0].basis, "same params (1, more threads: wall × speedup)")
        XCTAssertEqual(one.rows[2].cpuSeconds, 7, "no engine: its CPU time")
        XCTAssertEqual(one.rows[2].basis, "same params (1, more threads)")
        XCTAssertEqual(asked.values.sorted(), [1, 1, 2, 2], "the speedup at the records' two threads, measured once")

        let two = CostEstimate(pending: stages, store: store, registry: registry, threads: 2)
        XCTAssertEqual(two.rows[0].wallSeconds, 20, accuracy: 1e-9, "at the record's own thread count, its wall time")
        XCTAssertEqual(asked.values.count, 8, "one measurement for the records and the estimate's threads alike")

        let unmeasured = CostEstimate(pending: stages, store: store, registry: registry, threads: 1, measureSpeedup: false)
        XCTAssertEqual(unmeasured.rows[0].cpuSeconds, 70, "no speedup: the CPU time, an upper bound")
        XCTAssertEqual(unmeasured.rows[0].basis, "same params (1, more threads)")
    }

    /// With more threads per stage an engine stage's wall time is its one-thread CPU time over the
    /// measured speedup; a stage that runs no engine keeps its time, and unmeasured means one thread's time.
    func testMoreThreadsPerStageDivideTheEngineStagesByTheMeasuredSpeedup() throws {
        let box = try Sandbox(#"""
        {"stages": [{"name": "a", "kind": "test-spin", "params": {"work": 0.1}},
                    {"name": "w", "kind": "test-write", "params": {"text": "x"}}]}
        """#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        try box.editRecord(ofStage: "a") { $0["cpuSeconds"] = 60.0; $0["threads"] = 1 }
        try box.editRecord(ofStage: "w") { $0["cpuSeconds"] = 4.0; $0["threads"] = 1 }
        let store = try CacheStore(existing: box.cache)
        var registry = TestKinds.registry
        let asked = Counter()
        registry.measureSecondsPerWorkUnit = { threads in asked.add(threads); return threads == 1 ? 3e-3 : 1.2e-3 }
        let pipeline = try box.pipeline(registry)
        let stages = [try XCTUnwrap(pipeline.stage("a")), try XCTUnwrap(pipeline.stage("w"))]

        let two = CostEstimate(pending: stages, store: store, registry: registry, threads: 2)
        XCTAssertEqual(try XCTUnwrap(two.speedup), 2.5, accuracy: 1e-12)
        XCTAssertEqual(two.rows.map(\.cpuSeconds), [60, 4], "CPU stays priced at one thread")
        XCTAssertEqual(two.rows[0].wallSeconds, 24, accuracy: 1e-9)
        XCTAssertEqual(two.rows[1].wallSeconds, 4, "no engine: no speedup")
        XCTAssertEqual(two.wallSeconds(jobs: 1), 28, accuracy: 1e-9)
        XCTAssertEqual(asked.values.sorted(), [1, 1, 2, 2], "best of two at each count")

        let one = CostEstimate(pending: stages, store: store, registry: registry, threads: 1)
        XCTAssertEqual(one.speedup, 1)
        XCTAssertEqual(one.wallSeconds(jobs: 1), 64, accuracy: 1e-9)
        XCTAssertEqual(asked.values.count, 4, "one thread per stage measures nothing")

        let unmeasured = CostEstimate(pending: stages, store: store, registry: registry, threads: 2, measureSpeedup: false)
        XCTAssertNil(unmeasured.speedup)
        XCTAssertEqual(unmeasured.wallSeconds(jobs: 1), 64, accuracy: 1e-9, "one thread's time: an upper bound")
        XCTAssertEqual(LocalExecutor.threadsPerStage(jobs: 1, cores: 2, inherited: [:]), 2)
        XCTAssertEqual(LocalExecutor.threadsPerStage(jobs: 2, cores: 2, inherited: [:]), 1)
        XCTAssertEqual(LocalExecutor.threadsPerStage(jobs: 2, cores: 2, inherited: ["OMP_NUM_THREADS": "3"]), 3)
    }

    func testCriticalPathAndWallTimeOnSlots() {
        func row(_ name: String, _ seconds: Double, _ deps: [String] = []) -> CostEstimate.Row {
            .init(stage: name, kind: "k", cpuSeconds: seconds, basis: "test", deps: deps)
        }
        // a → c, b → c, d alone: two slots run a and b together, then c and d.
        let e = CostEstimate(rows: [row("a", 10), row("b", 4), row("c", 5, ["a", "b"]), row("d", 8)])
        XCTAssertEqual(e.totalCPU, 27)
        XCTAssertEqual(e.criticalPath.stages, ["a", "c"])
        XCTAssertEqual(e.criticalPath.seconds, 15)
        XCTAssertEqual(e.wallSeconds(jobs: 1), 27)
        XCTAssertEqual(e.wallSeconds(jobs: 2), 15, "a | b then d | c after a")
        XCTAssertEqual(e.wallSeconds(jobs: 8), 15, "no better than the critical path")
    }
}

/// The thread counts a measurement closure was asked for.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var asked: [Int] = []
    var values: [Int] { lock.withLock { asked } }
    func add(_ threads: Int) { lock.withLock { asked.append(threads) } }
}
