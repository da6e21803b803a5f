import Foundation
@testable import Cluster
@testable import Pipeline
import PipelineTestKinds
import XCTest

/// The pieces of the Slurm executor that need no cluster: the job script (run by bash with a stand-in
/// worker), resources, squeue parsing.
final class SlurmJobScriptTests: XCTestCase {
    private func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-slurm-unit-\(UUID().uuidString)")
            .appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testScriptPassesHostilePathsThroughAsDataAndRecordsTheExitStatus() throws {
        let base = try temporaryDirectory(#"base $(touch pwned) `touch pwned2` 'q' "dq" \ ; & | % x"#)
        let cache = base.appendingPathComponent("cache $(touch pwned)\nsecond line")
        let jobs = base.appendingPathComponent("job's dir")
        try FileManager.default.createDirectory(at: jobs, withIntermediateDirectories: true)
        // A stand-in worker: writes its arguments, one per line, and fails for the second key.
        let worker = base.appendingPathComponent("fake worker $(id)")
        try Data("#!/bin/bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$(dirname \"$0\")/args-$2\"\n[ \"$2\" = k0 ]\n".utf8)
            .write(to: worker)
        chmod(worker.path, 0o755)
        let script = SlurmJobScript(worker: worker, cache: cache, directory: jobs, keys: ["k0", "k1"], stages: ["s@x=1", "s@x=2"])
        let scriptURL = jobs.appendingPathComponent("job.sh")
        try Data(script.text.utf8).write(to: scriptURL)

        for task in 0..<2 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [scriptURL.path]
            p.currentDirectoryURL = base
            p.environment = ["PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_ARRAY_JOB_ID": "42"]
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, task == 0 ? 0 : 1)
            let args = try String(contentsOf: base.appendingPathComponent("args-k\(task)"), encoding: .utf8)
            XCTAssertEqual(args, "exec\nk\(task)\n--cache\n\(cache.path)\n--executor\nslurm\n")
            XCTAssertEqual(SlurmExecutor.exitStatus(SlurmJobScript.statusFile(key: "k\(task)", in: jobs)), task == 0 ? 0 : 1)
            let output = try String(contentsOf: SlurmJobScript.outputFile(jobID: "42", index: task, in: jobs), encoding: .utf8)
            XCTAssertTrue(output.contains("bnrepro job 42_\(task): exit status \(task)"), output)
        }
        for dir in [base, jobs, base.deletingLastPathComponent()] {
            for name in ["pwned", "pwned2"] {
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) in \(dir.path)")
            }
        }
    }

    func testQuoting() {
        XCTAssertEqual(SlurmJobScript.quote("plain"), "'plain'")
        XCTAssertEqual(SlurmJobScript.quote("it's"), #"'it'\''s'"#)
        XCTAssertEqual(SlurmJobScript.arraySpec(count: 5, throttle: 2), "0-4%2")
        XCTAssertEqual(SlurmJobScript.arraySpec(count: 5, throttle: 0), "0-4")
        XCTAssertEqual(SlurmJobScript.arraySpec(count: 1, throttle: 8), "0-0")
    }

    func testResourcesParseOverrideAndBecomeSbatchOptions() throws {
        let value = try JSONParser.parse(Data(#"{"cpus": 2, "mem": 4096, "time": "1-12:00:00", "partition": "cpu", "sbatchArgs": ["--qos=low"]}"#.utf8))
        let r = try StageResources.parse(value, stage: "train", file: "pipeline.json")
        XCTAssertEqual(r.sbatchOptions, ["--cpus-per-task=2", "--mem=4096", "--time=1-12:00:00", "--partition=cpu", "--qos=low"])
        let cli = StageResources(mem: "8G", sbatchArgs: ["--qos=high"])
        XCTAssertEqual(r.overridden(by: cli).sbatchOptions,
                       ["--cpus-per-task=2", "--mem=8G", "--time=1-12:00:00", "--partition=cpu", "--qos=low", "--qos=high"])
    }

    func testBadResourcesAreRejectedNamingStageAndField() throws {
        let cases: [(String, String)] = [
            (#"{"stages": [{"name": "train", "kind": "k", "resources": {"cpu": 4}}]}"#,
             "stage 'train', field 'resources.cpu': unknown field; did you mean 'cpus'?"),
            (#"{"stages": [{"name": "train", "kind": "k", "resources": {"mem": "lots"}}]}"#,
             "stage 'train', field 'resources.mem': expected megabytes or a size like \"4G\""),
            (#"{"stages": [{"name": "train", "kind": "k", "resources": {"time": "2 hours"}}]}"#,
             "stage 'train', field 'resources.time': expected minutes"),
            (#"{"stages": [{"name": "train", "kind": "k", "resources": {"cpus": 0}}]}"#,
             "stage 'train', field 'resources.cpus': expected a whole number"),
            (#"{"stages": [{"name": "train", "kind": "k", "resources": {"sbatchArgs": ["qos=high"]}}]}"#,
             "stage 'train', field 'resources.sbatchArgs': 'qos=high' is not an sbatch option"),
        ]
        for (json, message) in cases {
            XCTAssertThrowsError(try PipelineDocument.parse(Data(json.utf8))) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)\nexpected: \(message)")
            }
        }
    }

    func testResourcesTableAppliesProfilesAndSet() throws {
        let doc = try PipelineDocument.parse(Data(#"""
        {"defaultProfile": "quick",
         "profiles": {"quick": {}, "paper": {"train.resources.time": "2-00:00:00"}},
         "stages": [{"name": "train", "kind": "test-write", "params": {"text": "x"}, "matrix": {"repeat": [1, 2]},
                     "resources": {"time": 30, "mem": "2G"}}]}
        """#.utf8))
        let registry = TestKinds.registry
        func table(_ profile: String?, _ overrides: [(path: String, value: JSONValue)]) throws -> StageResources? {
            StageResources.table(of: try ResolvedPipeline(document: doc, profile: profile, overrides: overrides, registry: registry))["train"]
        }
        XCTAssertEqual(try table(nil, []), StageResources(mem: "2G", time: "30"))
        XCTAssertEqual(try table("paper", [("train.resources.mem", .string("16G"))]), StageResources(mem: "16G", time: "2-00:00:00"))
        XCTAssertThrowsError(try table("nosuch", []))
    }

    func testQueueParsing() {
        let queue = SlurmClient.parseQueue("12_0|RUNNING|None|node1\n12_1|PENDING|Resources|\n")
        XCTAssertEqual(queue["12_0"], SlurmQueueEntry(id: "12_0", state: "RUNNING", reason: "None", node: "node1"))
        XCTAssertEqual(queue["12_1"]?.reason, "Resources")
        XCTAssertEqual(queue.count, 2)
    }
}
