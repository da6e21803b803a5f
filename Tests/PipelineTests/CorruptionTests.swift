import Foundation
import Pipeline
import PipelineTestKinds
import XCTest

/// Nothing fails silently: a corrupt input that cannot be set aside, or that stays corrupt, fails its
/// stage with a reason, and `verify` tells corrupt objects from unreadable ones.
final class CorruptionTests: XCTestCase {
    func testCorruptInputThatCannotBeQuarantinedFailsTheStage() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        try FaultTests.corrupt(box, content: "B")
        // quarantine/ on another filesystem: rename(2) into it fails with EXDEV, as on a read-only or full disk.
        let quarantine = box.cache.appendingPathComponent("quarantine")
        try FileManager.default.removeItem(at: quarantine)
        try FileManager.default.createSymbolicLink(atPath: quarantine.path, withDestinationPath: "/proc/self")
        box.resetExecutions()
        let run = try box.run(["run", "c", "--force"])
        XCTAssertEqual(run.status, 1, run.all)
        XCTAssertTrue(run.err.contains("c failed: input 'out.txt' of 'b'"), run.err)
        XCTAssertTrue(run.err.contains("could not be quarantined (cannot move it to"), run.err)
        XCTAssertTrue(run.err.contains("cross-device"), run.err)
        XCTAssertFalse(run.err.contains("; quarantined"), "nothing moved, so nothing may say so: \(run.err)")
        XCTAssertEqual(box.executions, [], "b is not rerun over an object still in place, and c never starts its kind")
        let verify = try box.run(["verify"])
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.out.contains("corrupt, NOT quarantined: "), verify.out)
    }

    /// An executor whose worker for `c` always finds its input corrupt, as a disk that keeps corrupting would.
    struct CorruptingExecutor: Executor {
        let name = "local"
        let real: LocalExecutor
        func execute(_ spec: ActionSpec, store: CacheStore, progress: @escaping @Sendable (StageProgress) -> Void) -> ExecutionOutcome {
            spec.stage == "c" ? .corruptInput("input 'out.txt' of 'b' is corrupt; quarantined") : real.execute(spec, store: store, progress: progress)
        }
    }

    func testInputStillCorruptAfterQuarantineFailsTheRun() throws {
        let box = try Sandbox(basicPipeline)
        let pipeline = try box.pipeline()
        let store = try CacheStore(root: box.cache)
        let executor = CorruptingExecutor(real: LocalExecutor(worker: Sandbox.binary, environment: ["BNREPRO_TEST_COUNTER": box.counter.path]))
        let runner = Runner(pipeline: pipeline, store: store, executor: executor, console: Console(style: .silent),
                            projectDirectory: box.directory)
        var options = RunOptions()
        options.targets = ["c"]
        let summary = try runner.run(options)
        XCTAssertEqual(summary.failed, ["c"], "the stage is a failure, not left pending")
        XCTAssertFalse(summary.succeeded, "so `run` exits non-zero")
        XCTAssertEqual(Set(summary.ran), ["a", "b"])
    }

    /// An object root cannot read either: the test drops its filesystem capabilities (setfsuid) while
    /// `verify` runs, so the check is real whoever runs the suite.
    func testVerifyCountsUnreadableObjectsApartFromCorruptOnes() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        try FaultTests.corrupt(box, content: "A")
        let params = try XCTUnwrap(box.objects().first { (try? String(contentsOf: $0, encoding: .utf8))?.contains("\"text\"") == true })
        chmod(params.path, 0)
        let store = try CacheStore(root: box.cache)
        let result = try AsUnprivileged.run { Maintenance(store: store).verify() }
        chmod(params.path, 0o444)
        XCTAssertEqual(result.unreadable.count, 1, "\(result.unreadable)")
        XCTAssertTrue(result.unreadable.first?.reason.contains("Permission denied") == true, "\(result.unreadable)")
        // Moving it out needs write access to objects/, which the unprivileged check may lack.
        XCTAssertEqual(result.corrupt.count + result.notQuarantined.count, 1)
        XCTAssertEqual(result.affectedStages, ["a"])
    }
}

/// Runs a body with the filesystem permissions of an ordinary user when the tests run as root.
enum AsUnprivileged {
    private typealias SetFSUID = @convention(c) (UInt32) -> Int32

    static func run<T>(_ body: () throws -> T) throws -> T {
        guard getuid() == 0 else { return try body() }
        let symbol = try XCTUnwrap(dlsym(dlopen(nil, RTLD_NOW), "setfsuid"), "setfsuid is not available")
        let setfsuid = unsafeBitCast(symbol, to: SetFSUID.self)
        // Per thread on Linux, and from 0 to non-zero it drops CAP_DAC_OVERRIDE: root's way past a mode.
        _ = setfsuid(65534)
        defer { _ = setfsuid(0) }
        return try body()
    }
}
