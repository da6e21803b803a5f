import Foundation
import Pipeline
import XCTest

/// Action records keep the worker's peak resident memory; `show` and `status --times` print it, and a
/// record from before it was kept still reads and is still a cache hit.
final class PeakMemoryTests: XCTestCase {
    func testARecordKeepsTheWorkersPeakMemory() throws {
        let box = try Sandbox(#"""
        {"stages": [{"name": "small", "kind": "test-write", "params": {"text": "x"}},
                    {"name": "big", "kind": "test-alloc", "params": {"megabytes": 96}}]}
        """#)
        let run = try box.run(["run"])
        XCTAssertEqual(run.status, 0, run.all)
        let store = try CacheStore(root: box.cache)
        let small = try XCTUnwrap(store.record(try box.key(ofStage: "small"))?.peakMemoryBytes)
        let big = try XCTUnwrap(store.record(try box.key(ofStage: "big"))?.peakMemoryBytes)
        print("peak memory: small \(small >> 20) MiB, big \(big >> 20) MiB")
        XCTAssertGreaterThan(small, 1 << 20, "a worker holds more than 1 MiB; kilobytes were not read as bytes")
        XCTAssertLessThan(small, Int64(ProcessInfo.processInfo.physicalMemory), "kilobytes were not scaled twice")
        XCTAssertGreaterThanOrEqual(big, 96 << 20, "what the stage itself held is the worker's")
        XCTAssertGreaterThan(big, small + (64 << 20))

        let show = try box.run(["show", "big"])
        let time = try XCTUnwrap(show.out.split(separator: "\n").first { $0.hasPrefix("time") }, show.out)
        XCTAssertTrue(time.contains(", peak memory ") && time.hasSuffix("MiB"), String(time))
        let times = try box.run(["status", "--times"]).out
        XCTAssertTrue(times.contains("peak mem"), times)
    }

    func testARecordWithoutPeakMemoryStillReadsAndIsACacheHit() throws {
        let box = try Sandbox(#"{"stages": [{"name": "a", "kind": "test-write", "params": {"text": "x"}}]}"#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        try box.editRecord(ofStage: "a") { $0.removeValue(forKey: "peakMemoryBytes") }
        let record = try XCTUnwrap(try CacheStore(root: box.cache).record(try box.key(ofStage: "a")),
                                   "a record from before the field still reads")
        XCTAssertNil(record.peakMemoryBytes)
        XCTAssertEqual(record.schemaVersion, 1, "an optional field read with decodeIfPresent needs no new version")
        let show = try box.run(["show", "a"]).out
        XCTAssertTrue(show.contains("time     wall"), show)
        XCTAssertFalse(show.contains("peak memory"), "nothing is shown for what was not recorded:\n\(show)")
        XCTAssertFalse(try box.run(["status", "--times"]).out.contains("peak mem"))
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run"]).status, 0)
        XCTAssertEqual(box.executions, [], "still a cache hit")
    }
}
