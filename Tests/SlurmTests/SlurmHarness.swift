import Foundation
import Cluster
import Pipeline
import XCTest

/// The test cluster's environment: SLURM_CONF from the environment, else the one
/// scripts/slurm-test-cluster.sh writes. Skips the test when no controller answers.
enum TestCluster {
    static func environment() throws -> [String: String] {
        var env: [String: String] = [:]
        let process = ProcessInfo.processInfo.environment
        if let conf = process["SLURM_CONF"], !conf.isEmpty {
            env["SLURM_CONF"] = conf
        } else {
            let dir = process["BNREPRO_SLURM_DIR"] ?? "/tmp/bnrepro-slurm"
            let conf = dir + "/slurm.conf"
            if FileManager.default.fileExists(atPath: conf) { env["SLURM_CONF"] = conf }
        }
        guard ExecutablePath.locate("sbatch") != nil, SlurmClient(environment: env).controllerReachable() else {
            throw skipUnlessRequired("no Slurm controller answers (SLURM_CONF=\(env["SLURM_CONF"] ?? "unset")); start one with "
                                     + "`scripts/slurm-test-cluster.sh start`, or set SLURM_CONF")
        }
        return env
    }

    /// Every way a Slurm test can skip goes through here: with BNREPRO_SLURM_REQUIRED set (make test-slurm,
    /// CI) a test that cannot do its job fails instead, so a broken cluster never passes as "skipped".
    static func skipUnlessRequired(_ why: String) -> Error {
        if ProcessInfo.processInfo.environment["BNREPRO_SLURM_REQUIRED"] != nil {
            return HarnessError(description: "\(why), but BNREPRO_SLURM_REQUIRED is set")
        }
        return XCTSkip("\(why); skipping")
    }

    /// Array tasks of a job still pending or running.
    static func queued(_ jobID: String, env: [String: String]) -> [String] {
        (SlurmClient(environment: env).queue(jobIDs: [jobID]) ?? [:]).keys.sorted()
    }
}

/// A temporary project: pipeline.json, a counter of stage executions, and runs of bnrepro-testkinds.
struct TestProject {
    let directory: URL
    let counter: URL
    let env: [String: String]

    init(pipeline: String, env: [String: String], directoryName: String = "project") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-slurm-tests-\(UUID().uuidString)")
        directory = base.appendingPathComponent(directoryName)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(pipeline.utf8).write(to: directory.appendingPathComponent("pipeline.json"))
        counter = base.appendingPathComponent("counter.txt")
        self.env = env
    }

    static var binary: URL {
        Bundle.main.bundleURL.appendingPathComponent("bnrepro-testkinds")
    }

    struct Result {
        let status: Int32
        let out: String
        let err: String
    }

    func cache(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Executions so far, one stage name per line.
    var executions: [String] {
        ((try? String(contentsOf: counter, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func start(_ arguments: [String], extraEnv: [String: String] = [:]) throws -> RunningCommand {
        let process = Process()
        process.executableURL = TestProject.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment
            .merging(env) { $1 }
            .merging(["BNREPRO_TEST_COUNTER": counter.path]) { $1 }
            .merging(extraEnv) { $1 }
        return try RunningCommand(process)
    }

    func run(_ arguments: [String], extraEnv: [String: String] = [:]) throws -> Result {
        try start(arguments, extraEnv: extraEnv).wait()
    }

    /// Successful records of a cache: key → (stage, output name → digest, executor).
    static func records(_ cache: URL) throws -> [String: (stage: String, outputs: [String: String], executor: String)] {
        let dir = cache.appendingPathComponent("actions")
        var result: [String: (String, [String: String], String)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            let outputs = try XCTUnwrap(object["outputs"] as? [String: [String: Any]])
            let spec = object["spec"] as? [String: Any] ?? [:]
            result[String(name.dropLast(5))] = (spec["stage"] as? String ?? "", outputs.mapValues { $0["digest"] as? String ?? "" },
                                                object["executor"] as? String ?? "")
        }
        return result
    }

    /// Job directories of a cache whose names start with `group-`.
    static func jobDirectories(_ cache: URL, group: String) -> [URL] {
        let dir = cache.appendingPathComponent("slurm")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasPrefix(group + "-") }.sorted().map { dir.appendingPathComponent($0) }
    }

    /// Polls (the only way to see a file appear on a shared filesystem) until `condition` holds.
    static func waitFor(_ what: String, timeout: Double = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw HarnessError(description: "timed out after \(timeout) s waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

/// A wait that timed out, or no cluster where one is required.
struct HarnessError: Error, CustomStringConvertible { let description: String }

/// A child process whose output is collected while it runs.
final class RunningCommand: @unchecked Sendable {
    let process: Process
    private let out = Pipe(), err = Pipe()
    private let done = DispatchGroup()
    private var outData = Data(), errData = Data()

    init(_ process: Process) throws {
        self.process = process
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        done.enter()
        Thread { self.outData = self.out.fileHandleForReading.readDataToEndOfFile(); self.done.leave() }.start()
        done.enter()
        Thread { self.errData = self.err.fileHandleForReading.readDataToEndOfFile(); self.done.leave() }.start()
    }

    func interrupt() { kill(process.processIdentifier, SIGINT) }

    func wait(timeout: Double = 120) throws -> TestProject.Result {
        guard done.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            XCTFail("bnrepro-testkinds \(process.arguments ?? []) did not finish within \(timeout) s")
            return TestProject.Result(status: -1, out: "", err: "")
        }
        process.waitUntilExit()
        return TestProject.Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                                  err: String(decoding: errData, as: UTF8.self))
    }
}
