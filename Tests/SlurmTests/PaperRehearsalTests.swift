import DatasetsTestSupport
import Foundation
import Cluster
import Pipeline
import XCTest

/// The `paper` profile's whole DAG, every stage and every matrix member, through the test cluster as a
/// detached campaign, with each stage's budget cut to the smoke profile's by `--set`: it proves the wiring
/// of the full campaign (dependencies, keys resolved by the jobs, published figures, claims) without its
/// cost. It does not check numbers; the smoke and quick runs do that.
final class PaperRehearsalTests: XCTestCase {
    static var shipped: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("pipeline.json")
    }

    /// The smoke profile's parameter overrides as leaf `--set`s (so they do not replace what the paper
    /// profile sets beside them), without its matrix or dependency changes, which would change the DAG,
    /// and without its depth: the searched-rate runs check that they train the depth their search did
    /// (110 in the paper's DAG). `train`'s matrix names its epochs per run, so those are cut to one in place.
    static func budgetCuts(_ document: [String: Any]) throws -> [String] {
        let smoke = try XCTUnwrap((document["profiles"] as? [String: Any])?["smoke"] as? [String: Any])
        var sets: [String] = []
        func text(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]), as: UTF8.self)
        }
        func leaves(_ path: String, _ value: Any) throws {
            if let object = value as? [String: Any] {
                for (key, inner) in object.sorted(by: { $0.key < $1.key }) { try leaves(path + "." + key, inner) }
            } else {
                sets.append("\(path)=\(try text(value))")
            }
        }
        for (path, value) in smoke.sorted(by: { $0.key < $1.key }) where !path.contains(".matrix") && !path.hasSuffix(".deps") {
            try leaves(path, value)
        }
        sets.removeAll { $0.hasPrefix("defaults.depth=") }
        let stages = try XCTUnwrap(document["stages"] as? [[String: Any]])
        let train = try XCTUnwrap(stages.first { $0["name"] as? String == "train" })
        let runs = try XCTUnwrap((train["matrix"] as? [String: Any])?["run"] as? [[String: Any]])
        sets.append("train.matrix.run=\(try text(runs.map { $0.merging(["epochs": 1]) { $1 } }))")
        return sets
    }

    func bnrepro(_ arguments: [String], in directory: URL, env: [String: String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("bnrepro")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // One thread per job: the test cluster declares eight CPUs on a machine that may have two.
        process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.merging(["OMP_NUM_THREADS": "1"]) { $1 }
        let r = try RunningCommand(process).wait(timeout: 300)
        return (r.status, r.out, r.err)
    }

    func testPaperProfileDAGGoesThroughTheClusterDetachedAndEveryFigureComesOut() throws {
        let env = try TestCluster.environment()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-rehearsal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let pipeline = try Data(contentsOf: Self.shipped)
        try pipeline.write(to: dir.appendingPathComponent("pipeline.json"))
        let archive = dir.appendingPathComponent("cifar.tar.gz")
        try Data(SyntheticCIFAR(recordsPerFile: 240).tarGz()).write(to: archive)
        let md5 = try MD5Sum.of(archive)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: pipeline) as? [String: Any])
        var sets = try Self.budgetCuts(document)
        sets += ["download.params.url=\(archive.absoluteString)", "download.params.md5=\(md5)", "decode.params.records_per_file=240"]
        let options = ["--profile", "paper", "--cache", dir.appendingPathComponent("cache").path] + sets.flatMap { ["--set", $0] }

        let started = Date()
        let submit = try bnrepro(["run", "--executor", "slurm", "--detach"] + options, in: dir, env: env)
        XCTAssertEqual(submit.status, 0, submit.err)
        let summary = try XCTUnwrap(submit.err.range(of: #"submitted [0-9]+ stages in [0-9]+ jobs, cached 0"#, options: .regularExpression), submit.err)
        let before = try bnrepro(["status"] + options, in: dir, env: env)
        let total = before.out.split(separator: "\n").filter { $0.hasPrefix("  never run") || $0.hasPrefix("  stale") || $0.hasPrefix("  up to date") }.count
        XCTAssertTrue(submit.err[summary].hasPrefix("submitted \(total) stages"), "every stage of the paper DAG was submitted: \(submit.err[summary]) of \(total)")
        XCTAssertGreaterThan(total, 60, "the paper profile's matrices, not the smoke profile's")

        // Poll status until the campaign is done, or fail at once when a job failed.
        var last = ""
        let deadline = Date().addingTimeInterval(45 * 60)
        while Date() < deadline {
            last = try bnrepro(["status"] + options, in: dir, env: env).out
            if last.contains("\(total) up to date, 0 stale, 0 never run") { break }
            if let line = last.split(separator: "\n").first(where: { $0.contains("slurm job") && ($0.contains("failed") || $0.contains("never started") || $0.contains("left the queue")) }) {
                return XCTFail("a job of the rehearsal failed: \(line)\n\(Self.failedOutputs(dir))")
            }
            Thread.sleep(forTimeInterval: 5)
        }
        XCTAssertTrue(last.contains("\(total) up to date, 0 stale, 0 never run"), last)
        print("rehearsal: \(total) stages in \(Int(Date().timeIntervalSince(started))) s")

        // Every published output of every figure stage came out, published by the jobs themselves.
        let figures = dir.appendingPathComponent("figures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: figures.path)) ?? []
        for figure in ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "appH", "appE", "appK"] {
            XCTAssertTrue(names.contains { $0.lowercased().hasPrefix(figure.lowercased()) && $0.hasSuffix(".png") }, "\(figure) in \(names)")
        }
        let claims = try bnrepro(["claims"] + options, in: dir, env: env)
        XCTAssertEqual(claims.status, 0, claims.err)
        XCTAssertTrue(claims.out.contains("claims:"), claims.out)
    }

    /// The tails of the job outputs whose status is not 0, for a failure message.
    static func failedOutputs(_ dir: URL) -> String {
        let slurm = dir.appendingPathComponent("cache/slurm")
        var text = ""
        for job in (try? FileManager.default.contentsOfDirectory(atPath: slurm.path)) ?? [] {
            let jobDir = slurm.appendingPathComponent(job)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: jobDir.path)) ?? [] where name.hasSuffix(".status") {
                guard let code = try? String(contentsOf: jobDir.appendingPathComponent(name), encoding: .utf8),
                      code.trimmingCharacters(in: .whitespacesAndNewlines) != "0" else { continue }
                for out in (try? FileManager.default.contentsOfDirectory(atPath: jobDir.path))?.filter({ $0.hasSuffix(".out") }) ?? [] {
                    text += "== \(job)/\(out)\n" + ((try? String(contentsOf: jobDir.appendingPathComponent(out), encoding: .utf8)) ?? "").suffix(1500) + "\n"
                }
            }
        }
        return text
    }
}
