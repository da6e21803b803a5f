import Foundation
import Pipeline
import XCTest

/// SQLite's way: fail every file-system write of a process, one at a time, and check that the cache
/// survives each. The preload library (`libbnrepro-faults.so`, Sources/CFaultInjection) makes the Nth
/// write, fsync, rename, mkdir or write-open of one process fail with ENOSPC or EIO. For every N, at
/// -j 1: the run fails and names the errno and the file, `verify` passes, no record names a missing
/// object, tmp/ is empty, and the rerun without injection completes with the same bytes as a run that
/// was never injected.
final class FaultInjectionSweepTests: XCTestCase {
    /// What one sweep injects into: a pipeline whose `prepared` targets are cached first, and the run
    /// that then computes and publishes `stage`.
    struct Setup {
        var executable: URL
        var pipeline: String
        var prepared: [String]
        var run: [String]
        var stage: String
        /// Stages whose outputs, and published files whose bytes, must match the uninjected run.
        var compared: [String]
        var published: [String]
    }

    /// a and b are cached before each injected run; c is computed (its worker writes outputs, log and
    /// record) and published (the runner writes its spec, its ref and figures/out.txt).
    static let testKinds = Setup(
        executable: Sandbox.binary,
        pipeline: """
        {"stages": [
          {"name": "a", "kind": "test-write", "params": {"text": "A"}},
          {"name": "b", "kind": "test-write", "params": {"text": "B"}},
          {"name": "c", "kind": "test-concat", "deps": ["a", "b"], "publish": "figures"}
        ]}
        """,
        prepared: ["a", "b"], run: ["run", "-j", "1"], stage: "c", compared: ["a", "b", "c"], published: ["figures/out.txt"])

    /// The shipped pipeline at the smoke profile: Fig. 8 drawn from a cached random-matrices result
    /// (its worker renders with Cairo, encodes with libpng, writes PNG, SVG and claims; the runner
    /// publishes both figures).
    static let smokeFigure = Setup(
        executable: Sandbox.binary.deletingLastPathComponent().appendingPathComponent("bnrepro"),
        pipeline: (try? String(contentsOf: projectDirectory.appendingPathComponent("pipeline.json"), encoding: .utf8)) ?? "",
        prepared: ["random-matrices", "--profile", "smoke"], run: ["run", "fig8", "--profile", "smoke", "-j", "1"], stage: "fig8",
        compared: ["random-matrices", "fig8"],
        published: ["figures/fig8-random-matrix-singular-values.png", "figures/fig8-random-matrix-singular-values.svg"])

    static var projectDirectory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static var library: URL { Sandbox.binary.deletingLastPathComponent().appendingPathComponent("libbnrepro-faults.so") }

    /// Every operation of c's worker and of the runner, with ENOSPC and with EIO.
    func testEveryWriteOfAWorkerAndOfTheRunnerFailsCleanly() throws {
        try sweep(Self.testKinds, processes: ["worker", "runner"], errnos: { _ in ["ENOSPC", "EIO"] })
    }

    /// Every operation of a real stage's worker (Fig. 8 at the smoke profile), ENOSPC and EIO in turn:
    /// each costs a second or two, so each N gets one of the two.
    func testEveryWriteOfAFigureWorkerFailsCleanly() throws {
        try sweep(Self.smokeFigure, processes: ["worker"], errnos: { [$0 % 2 == 1 ? "ENOSPC" : "EIO"] })
    }

    /// A disk that stays full from the worker's third operation on (its work directory): the worker can
    /// record nothing, not even with the reserve spent; the runner names the errno and the file, records
    /// the failure itself, and `show` says when and why. The same command with space again completes.
    func testAFullDiskIsNamedAndShowSaysWhy() throws {
        let setup = Self.testKinds
        let reference = try sandbox(setup)
        XCTAssertEqual(try reference.run(setup.run).status, 0)
        let box = try sandbox(setup)
        XCTAssertEqual(try box.run(["run"] + setup.prepared).status, 0)
        let log = box.directory.appendingPathComponent("faults.txt")
        let run = try box.run(setup.run, env: injection("nth=3 persist=1 errno=ENOSPC process=exec,\(try reference.key(ofStage: "c"))", log: log))
        let fired = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(fired.hasPrefix("fired mkdir #3") && fired.contains("/tmp/work~"), fired)
        let workDirectory = try XCTUnwrap(Self.firedPath(fired))
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
        let again = try box.run(setup.run)
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertEqual(try outputs(of: box, setup), try outputs(of: reference, setup))
    }

    // MARK: the sweep

    private func sweep(_ setup: Setup, processes: [String], errnos: (Int) -> [String]) throws {
        let started = Date()
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.library.path), "swift build builds the bnrepro-faults library")
        let reference = try sandbox(setup)
        let referenceRun = try reference.run(setup.run)
        XCTAssertEqual(referenceRun.status, 0, referenceRun.all)
        let expected = try outputs(of: reference, setup)
        let base = try sandbox(setup)
        XCTAssertEqual(try base.run(["run"] + setup.prepared).status, 0)
        var points = 0
        for process in processes {
            let filter = process == "runner" ? "run" : "exec,\(try reference.key(ofStage: setup.stage))"
            let count = try operations(of: filter, setup, from: base)
            XCTAssertGreaterThan(count, 5, "the hook saw the writes of the \(process)")
            for n in 1...max(1, count) {
                for errnoName in errnos(n) {
                    try injectOnce(setup, process: filter, nth: n, errnoName: errnoName, base: base, expected: expected)
                    points += 1
                }
            }
            print("fault-injection sweep, \(setup.stage)'s \(process): \(count) operations")
        }
        print("fault-injection sweep over \(setup.stage): \(points) injection points in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    /// The write-side operations `process` makes in a run from `base`, as the hook counts them.
    private func operations(of process: String, _ setup: Setup, from base: Sandbox) throws -> Int {
        let box = try copy(base, setup)
        let log = box.directory.appendingPathComponent("faults.txt")
        let run = try box.run(setup.run, env: injection("nth=0 process=\(process)", log: log))
        XCTAssertEqual(run.status, 0, run.all)
        let text = try String(contentsOf: log, encoding: .utf8)
        let counts = text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        XCTAssertEqual(counts.count, 1, "one process matched \(process): \(text)")
        return counts.first ?? 0
    }

    private func injectOnce(_ setup: Setup, process: String, nth: Int, errnoName: String, base: Sandbox,
                            expected: [String: [String: String]]) throws {
        let box = try copy(base, setup)
        let log = box.directory.appendingPathComponent("faults.txt")
        let run = try box.run(setup.run, env: injection("nth=\(nth) errno=\(errnoName) process=\(process)", log: log))
        let what = "\(errnoName) at operation \(nth) of \(process)"
        guard let fired = try? String(contentsOf: log, encoding: .utf8), let path = Self.firedPath(fired) else {
            return XCTFail("\(what): nothing was injected")
        }
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
        let again = try box.run(setup.run)
        XCTAssertEqual(again.status, 0, "\(what): the rerun failed:\n\(again.all)")
        XCTAssertEqual(try outputs(of: box, setup), expected, what)
    }

    /// The hook's log line "fired <op> #<n> errno <e> <path>": the path.
    static func firedPath(_ log: String) -> String? {
        guard let line = log.split(separator: "\n").first(where: { $0.hasPrefix("fired ") }) else { return nil }
        return line.split(separator: " ", maxSplits: 5).last.map(String.init)
    }

    /// The message names the file: its path, or for a temporary file of an atomic write, the file it
    /// was to become: AtomicFile's `dir/.name.tmp-…` → `dir/name`; Foundation's `dir/.dat.nosync…`,
    /// which does not say, → some file in `dir`.
    static func names(_ text: String, _ path: String) -> Bool {
        if text.contains(path) { return true }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path + "/"
        var name = url.lastPathComponent
        if name.hasPrefix(".dat.nosync") { return text.contains(directory) }
        guard name.hasPrefix("."), let tmp = name.range(of: ".tmp-") else { return false }
        name = String(name[name.index(after: name.startIndex)..<tmp.lowerBound])
        return text.contains(directory + name)
    }

    /// The environment of an injected run. The test kinds' execution counter is the test's
    /// bookkeeping, not the pipeline's, and is left out.
    private func injection(_ spec: String, log: URL) -> [String: String] {
        ["LD_PRELOAD": Self.library.path, "BNREPRO_TEST_COUNTER": "", "BNREPRO_FAULT_INJECT": "\(spec) log=\(log.path)"]
    }

    /// Every compared stage's output digests, and the published files' bytes (as hex digests), as one value.
    private func outputs(of box: Sandbox, _ setup: Setup) throws -> [String: [String: String]] {
        let store = try CacheStore(root: box.cache)
        var result: [String: [String: String]] = [:]
        for stage in setup.compared {
            let record = try XCTUnwrap(store.record(try box.key(ofStage: stage)), "\(stage) is cached")
            result[stage] = record.outputs.mapValues(\.digest)
        }
        for file in setup.published {
            result[file] = ["sha256": try Digest.sha256(file: box.directory.appendingPathComponent(file)).digest]
        }
        return result
    }

    private func sandbox(_ setup: Setup) throws -> Sandbox {
        let box = try Sandbox(setup.pipeline)
        box.executable = setup.executable
        return box
    }

    /// A sandbox with `base`'s pipeline and cache.
    private func copy(_ base: Sandbox, _ setup: Setup) throws -> Sandbox {
        let box = try sandbox(setup)
        try FileManager.default.copyItem(at: base.directory.appendingPathComponent("data"), to: box.directory.appendingPathComponent("data"))
        return box
    }
}
