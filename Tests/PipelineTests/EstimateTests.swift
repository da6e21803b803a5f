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
        XCTAssertTrue(row.contains("records (1)"), String(row))
        XCTAssertTrue(out.out.contains("b ") && out.out.contains("no record"), out.out)
        XCTAssertTrue(out.out.contains("estimate: 2 stages to run"), out.out)

        let store = try CacheStore(existing: box.cache)
        let recorded = try XCTUnwrap(store.allRecordKeys().compactMap { store.record($0) }.first { $0.stage == "a" })
        let pipeline = try ResolvedPipeline(document: PipelineDocument.load(box.directory.appendingPathComponent("pipeline.json")),
                                            registry: TestKinds.registry)
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
        func pipeline() throws -> ResolvedPipeline {
            try ResolvedPipeline(document: PipelineDocument.load(box.directory.appendingPathComponent("pipeline.json")),
                                 registry: TestKinds.registry)
        }
        // A stage with a record's own params (as after a version bump, or with --force): that record only.
        let again = CostEstimate(pending: [try XCTUnwrap(try pipeline().stage("s1"))], store: store, registry: TestKinds.registry)
        XCTAssertEqual(again.rows[0].peakMemoryBytes, 100 * mib)
        XCTAssertEqual(again.rows[0].memoryRecords, 1)
        XCTAssertTrue(again.rows[0].memorySameParams)

        try box.write(#"""
        {"stages": [{"name": "w", "kind": "test-write", "params": {"text": "x"}},
                    {"name": "t", "kind": "test-spin", "params": {"work": 0.15}},
                    {"name": "u", "kind": "test-slowsum", "params": {"steps": 1}}]}
        """#)
        let estimate = try CostEstimate(pipeline: try pipeline(), store: store, registry: TestKinds.registry, targets: [])
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
