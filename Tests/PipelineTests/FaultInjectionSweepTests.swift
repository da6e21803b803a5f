import Foundation
import Pipeline
import XCTest

/// SQLite's way: fail every file-system write of a process, one at a time, and check that the cache
/// survives each. The preload library (`libbnrepro-faults.so`, Sources/CFaultInjection) makes the Nth
/// write, fsync, rename, mkdir or write-open of one process fail with ENOSPC or EIO. For every N of the
/// worker of stage c and of the runner, at -j 1: the run fails and names the errno and the file,
/// `verify` passes, no record names a missing object, tmp/ is empty, and the rerun without injection
/// completes with the same bytes as a run that was never injected.
final class FaultInjectionSweepTests: XCTestCase {
    /// a and b are cached before each injected run; c is computed (its worker writes outputs, log and
    /// record) and published (the runner writes its spec, its ref and figures/out.txt).
    static let pipeline = """
    {"stages": [
      {"name": "a", "kind": "test-write", "params": {"text": "A"}},
      {"name": "b", "kind": "test-write", "params": {"text": "B"}},
      {"name": "c", "kind": "test-concat", "deps": ["a", "b"], "publish": "figures"}
    ]}
    """

    static var library: URL { Sandbox.binary.deletingLastPathComponent().appendingPathComponent("libbnrepro-faults.so") }

    func testEveryWriteOfAWorkerAndOfTheRunnerFailsCleanly() throws {
        let started = Date()
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.library.path), "build the bnrepro-faults product (swift build builds it)")
        let reference = try Sandbox(Self.pipeline)
        XCTAssertEqual(try reference.run(["run"]).status, 0)
        let expected = try outputs(of: reference)
        let keyOfC = try reference.key(ofStage: "c")

        let base = try Sandbox(Self.pipeline)
        XCTAssertEqual(try base.run(["run", "a", "b"]).status, 0)
        var points = 0
        for process in ["exec,\(keyOfC)", "run"] {
            let count = try operations(of: process, from: base)
            XCTAssertGreaterThan(count, 5, "the hook saw the writes of \(process)")
            for errnoName in ["ENOSPC", "EIO"] {
                for n in 1...count {
                    try injectOnce(process: process, nth: n, errnoName: errnoName, base: base, expected: expected)
                    points += 1
                }
            }
        }
        print("fault-injection sweep: \(points) injection points in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    /// A disk that stays full from the worker's first write of its log on: the worker can record
    /// nothing, not even with the reserve spent; the runner names the errno and the file, records the
    /// failure itself, and `show` says when and why. The same command with space again completes.
    func testAFullDiskIsNamedAndShowSaysWhy() throws {
        let box = try Sandbox(Self.pipeline)
        XCTAssertEqual(try box.run(["run", "a", "b"]).status, 0)
        let reference = try Sandbox(Self.pipeline)
        XCTAssertEqual(try reference.run(["run"]).status, 0)
        let log = box.directory.appendingPathComponent("faults.txt")
        // The worker's 3rd write-side operation creates its work directory (after the lock and its note).
        let env = ["LD_PRELOAD": Self.library.path, "BNREPRO_TEST_COUNTER": "",
                   "BNREPRO_FAULT_INJECT": "nth=3 persist=1 errno=ENOSPC process=exec,\(try reference.key(ofStage: "c")) log=\(log.path)"]
        let run = try box.run(["run"], env: env)
        let fired = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(fired.hasPrefix("fired mkdir #3") && fired.contains("/tmp/work~"), fired)
        let firstLine = fired.split(separator: "\n").first ?? ""
        let workDirectory = String(firstLine.split(separator: " ", maxSplits: 5).last ?? "")
        XCTAssertEqual(run.status, 1, run.all)
        XCTAssertTrue(run.err.contains("FAILED c failed: \(workDirectory): cannot create directory: No space left on device (the file system is full: "), run.err)
        XCTAssertTrue(run.err.contains("the worker could not write its failure record ("), run.err)
        XCTAssertTrue(run.err.contains("the runner recorded the failure instead"), run.err)
        let show = try box.run(["show", "c"]).out
        XCTAssertTrue(show.contains("status   never run"), show)
        XCTAssertTrue(show.contains("last failure at ") && show.contains("No space left on device"), show)
        XCTAssertTrue(show.contains("log      (none: the worker could not store it"), show)
        XCTAssertTrue(try box.run(["status"]).out.contains("- last run failed "), "status says so too")
        XCTAssertEqual(try box.run(["verify"]).status, 0)
        let again = try box.run(["run"])
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertEqual(try outputs(of: box), try outputs(of: reference))
    }

    // MARK: helpers

    /// The write-side operations `process` makes in a run from `base`, as the hook counts them.
    private func operations(of process: String, from base: Sandbox) throws -> Int {
        let box = try copy(base)
        let log = box.directory.appendingPathComponent("faults.txt")
        let run = try box.run(["run", "-j", "1"], env: ["LD_PRELOAD": Self.library.path, "BNREPRO_TEST_COUNTER": "",
                                                        "BNREPRO_FAULT_INJECT": "nth=0 process=\(process) log=\(log.path)"])
        XCTAssertEqual(run.status, 0, run.all)
        let text = try String(contentsOf: log, encoding: .utf8)
        let counts = text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        XCTAssertEqual(counts.count, 1, "one process matched \(process): \(text)")
        return counts.first ?? 0
    }

    private func injectOnce(process: String, nth: Int, errnoName: String, base: Sandbox, expected: [String: [String: String]]) throws {
        let box = try copy(base)
        let log = box.directory.appendingPathComponent("faults.txt")
        // The test kinds' execution counter is the test's bookkeeping, not the pipeline's: left out.
        let run = try box.run(["run", "-j", "1"], env: ["LD_PRELOAD": Self.library.path, "BNREPRO_TEST_COUNTER": "",
                                                        "BNREPRO_FAULT_INJECT": "nth=\(nth) errno=\(errnoName) process=\(process) log=\(log.path)"])
        let what = "\(errnoName) at operation \(nth) of \(process)"
        let fired = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("fired ") }
        guard let fired else { return XCTFail("\(what): nothing was injected") }
        // "fired <op> #<n> errno <e> <path>"
        let path = fired.split(separator: " ", maxSplits: 5).last.map(String.init) ?? ""
        XCTAssertNotEqual(run.status, 0, "\(what) (\(fired)) went unnoticed:\n\(run.all)")
        XCTAssertTrue(run.all.contains(errnoName == "ENOSPC" ? "No space left on device" : "Input/output error"), "\(what): \(run.all)")
        XCTAssertTrue(Self.names(run.all, path), "\(what): the message does not name \(path):\n\(run.all)")

        XCTAssertEqual(try box.run(["verify"]).status, 0, what)
        let store = try CacheStore(root: box.cache)
        for key in store.allRecordKeys() {
            XCTAssertNotNil(store.record(key), "\(what): record \(key) names a missing object or cannot be read")
        }
        let tmp = try FileManager.default.contentsOfDirectory(atPath: box.cache.appendingPathComponent("tmp").path)
        XCTAssertEqual(tmp, [], "\(what): tmp/ is not clean")
        let again = try box.run(["run", "-j", "1"])
        XCTAssertEqual(again.status, 0, "\(what): the rerun failed:\n\(again.all)")
        XCTAssertEqual(try outputs(of: box), expected, what)
    }

    /// The message names the file: its path, or for a temporary file of an atomic write, the file it
    /// was to become (`dir/.name.tmp-…` → `dir/name`).
    static func names(_ text: String, _ path: String) -> Bool {
        if text.contains(path) { return true }
        let url = URL(fileURLWithPath: path)
        var name = url.lastPathComponent
        guard name.hasPrefix("."), let tmp = name.range(of: ".tmp-") else { return false }
        name = String(name[name.index(after: name.startIndex)..<tmp.lowerBound])
        return text.contains(url.deletingLastPathComponent().appendingPathComponent(name).path)
    }

    /// Every stage's output digests, and the published file's bytes, as one comparable value.
    private func outputs(of box: Sandbox) throws -> [String: [String: String]] {
        let store = try CacheStore(root: box.cache)
        var result: [String: [String: String]] = [:]
        for stage in ["a", "b", "c"] {
            let record = try XCTUnwrap(store.record(try box.key(ofStage: stage)), "\(stage) is cached")
            result[stage] = record.outputs.mapValues(\.digest)
        }
        result["figures"] = ["out.txt": try String(contentsOf: box.directory.appendingPathComponent("figures/out.txt"), encoding: .utf8)]
        return result
    }

    /// A sandbox with `base`'s pipeline and cache.
    private func copy(_ base: Sandbox) throws -> Sandbox {
        let box = try Sandbox(Self.pipeline)
        try FileManager.default.copyItem(at: base.directory.appendingPathComponent("data"), to: box.directory.appendingPathComponent("data"))
        return box
    }
}
