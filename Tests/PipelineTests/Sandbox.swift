import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Pipeline
import PipelineTestKinds
import XCTest

/// A temporary project directory with a pipeline.json, driven through the real `bnrepro-testkinds`
/// binary (the `bnrepro` CLI with the tests' stage kinds).
final class Sandbox {
    let directory: URL
    let counter: URL
    /// The CLI the sandbox runs: the test kinds' by default, the real `bnrepro` for the shipped pipeline.
    var executable = Sandbox.binary
    var cache: URL { directory.appendingPathComponent("data/cache") }

    init(_ pipeline: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        counter = directory.appendingPathComponent("executions.txt")
        try write(pipeline)
    }

    deinit {
        release()
        // Objects are read-only files in read-only-free directories; removal works as owner.
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ pipeline: String) throws {
        try Data(pipeline.utf8).write(to: directory.appendingPathComponent("pipeline.json"))
    }

    static var binary: URL {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("bnrepro-testkinds")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return Bundle.main.bundleURL.appendingPathComponent("bnrepro-testkinds")
    }

    struct Result {
        let status: Int32
        let out: String
        let err: String
        var all: String { out + err }
    }

    /// Runs the CLI to completion.
    @discardableResult
    func run(_ args: [String], env: [String: String] = [:]) throws -> Result {
        let p = try start(args, env: env)
        let out = p.out.fileHandleForReading.readDataToEndOfFile()
        let err = p.err.fileHandleForReading.readDataToEndOfFile()
        p.process.waitUntilExit()
        return Result(status: p.process.terminationStatus, out: String(decoding: out, as: UTF8.self),
                      err: String(decoding: err, as: UTF8.self))
    }

    func start(_ args: [String], env: [String: String] = [:]) throws -> (process: Process, out: Pipe, err: Pipe) {
        let process = Process()
        process.executableURL = executable
        process.arguments = args
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["BNREPRO_TEST_COUNTER"] = counter.path
        environment.removeValue(forKey: "BNREPRO_CACHE")
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    // MARK: a `test-hold` stage: the test decides when it ends

    /// Where a `test-hold` stage writes its worker's pid, and the file whose appearance ends it.
    var startedMarker: URL { directory.appendingPathComponent("started") }
    var releaseFile: URL { directory.appendingPathComponent("release") }
    var waitEnv: [String: String] { ["BNREPRO_TEST_STARTED": startedMarker.path, "BNREPRO_TEST_RELEASE": releaseFile.path] }

    func release() { _ = FileManager.default.createFile(atPath: releaseFile.path, contents: nil) }

    /// Waits for the `test-hold` stage to start; returns its worker's pid.
    /// Starts `run` on a pipeline whose stage holds, waits for its worker and kills the runner outright
    /// (SIGKILL): the worker is left an orphan, still computing. Returns the orphan's pid.
    func orphanAWorker() throws -> Int32 {
        let first = try start(["run"], env: waitEnv)
        let orphan = try waitForWorker()
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        return orphan
    }

    func waitForWorker() throws -> Int32 {
        XCTAssertTrue(waitForFile(startedMarker), "the waiting stage never started")
        return try XCTUnwrap(Int32(try String(contentsOf: startedMarker, encoding: .utf8)))
    }

    /// True once `pid` has exited (a zombie counts: nobody may reap an orphan in a container).
    static func isGone(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[close...].hasPrefix(") Z")
    }

    /// Polls for an event another process causes (a file, an exit); fails the test after `timeout`.
    @discardableResult
    func waitUntil(_ what: String, timeout: Double = 30, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { XCTFail("timed out waiting for \(what)"); return false }
            usleep(10_000)
        }
        return true
    }

    /// Reads `pipe` until its text contains `needle`, it closes, or `timeout` passes (a failure);
    /// returns what was read.
    func readOutput(_ pipe: Pipe, until needle: String, timeout: Double = 30) -> String {
        let fd = pipe.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !text.contains(needle) {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard ms > 0, poll(&ready, 1, ms) > 0 else { XCTFail("timed out waiting for '\(needle)' in:\n\(text)"); break }
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        return text
    }

    /// True if nobody holds the cache lock: taking it without waiting succeeds.
    var cacheLockIsFree: Bool {
        let fd = open(cache.appendingPathComponent("lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    /// The key a stage was last brought up to date with, and its record file.
    func key(ofStage stage: String) throws -> String {
        try String(contentsOf: cache.appendingPathComponent("refs/\(stage)"), encoding: .utf8)
    }

    func recordFile(ofStage stage: String) throws -> URL {
        cache.appendingPathComponent("actions/\(try key(ofStage: stage)).json")
    }

    /// Rewrites a stage's record as a JSON object, e.g. to plant an old format or a bad digest.
    /// The sandbox's pipeline.json, resolved against `registry`.
    func pipeline(_ registry: KindRegistry = TestKinds.registry) throws -> ResolvedPipeline {
        try ResolvedPipeline(document: PipelineDocument.load(directory.appendingPathComponent("pipeline.json")), registry: registry)
    }

    func editRecord(ofStage stage: String, _ edit: (inout [String: Any]) -> Void) throws {
        let url = try recordFile(ofStage: stage)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: url)
    }

    /// Stage names executed so far, in order.
    var executions: [String] {
        ((try? String(contentsOf: counter, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func resetExecutions() { try? FileManager.default.removeItem(at: counter) }

    func waitForFile(_ url: URL, timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: url.path) { return true }
            usleep(20_000)
        }
        return false
    }

    func objects() -> [URL] {
        let root = cache.appendingPathComponent("objects")
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        return (e?.allObjects as? [URL] ?? []).filter { !$0.hasDirectoryPath && $0.deletingLastPathComponent() != root }
    }
}

/// A small pipeline used by most tests: a → c ← b, and a matrix m that c does not need.
let basicPipeline = """
{
  "defaultProfile": "quick",
  "profiles": { "quick": {}, "long": { "a.params.repeat": 3 } },
  "stages": [
    { "name": "a", "kind": "test-write", "params": { "text": "A" } },
    { "name": "b", "kind": "test-write", "params": { "text": "B" } },
    { "name": "c", "kind": "test-concat", "deps": ["a", "b"], "publish": "figures" },
    { "name": "m", "kind": "test-write", "params": { "text": "M" }, "matrix": { "bn": [true, false], "lr": [0.1, 0.0001] } }
  ]
}
"""
