import DatasetsTestSupport
import Foundation
import Pipeline
import XCTest

/// The shipped pipeline.json at the smoke profile, end to end through the real `bnrepro` binary, on a
/// small generated CIFAR-10 archive: every analysis and figure stage must write a claims.json that
/// parses, and `bnrepro claims` must read them (no claim has to hold at this scale).
final class SmokeEndToEndTests: XCTestCase {
    static var binary: URL {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("bnrepro")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return Bundle.main.bundleURL.appendingPathComponent("bnrepro")
    }

    func bnrepro(_ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = args
        process.currentDirectoryURL = dir
        // The machine's engine plan goes beside the project, not into the user's ~/.cache.
        process.environment = ProcessInfo.processInfo.environment
            .merging(["BNREPRO_ENGINE_PLANS": dir.appendingPathComponent("engine-plans").path]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testSmokeProfileWritesClaimsForEveryAnalysisAndFigure() throws {
        let dir = try temporaryDirectory("bnrepro-smoke")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: FigureStageTests.shipped, to: dir.appendingPathComponent("pipeline.json"))
        let archive = dir.appendingPathComponent("cifar.tar.gz")
        try Data(SyntheticCIFAR(recordsPerFile: 240).tarGz()).write(to: archive)
        let md5 = try MD5Sum.of(archive)
        let set = ["--set", "download.params.url=\(archive.absoluteString)", "--set", "download.params.md5=\(md5)",
                   "--set", "decode.params.records_per_file=240"]
        let run = try bnrepro(["run", "--profile", "smoke", "-j", "2"] + set, in: dir)
        XCTAssertEqual(run.status, 0, run.output)

        let claims = try bnrepro(["claims", "--profile", "smoke"] + set, in: dir)
        XCTAssertEqual(claims.status, 0, claims.output)
        XCTAssertTrue(claims.output.contains("claims:"), claims.output)
        XCTAssertFalse(claims.output.contains("not up to date"), claims.output)

        // Every stage except the data stages left a claims.json that parses.
        let store = try CacheStore(root: dir.appendingPathComponent("data/cache"))
        let doc = try PipelineDocument.load(dir.appendingPathComponent("pipeline.json"))
        var stages = doc.stages.compactMap { $0["name"]?.stringValue }
        stages.removeAll { ["download", "decode"].contains($0) }
        var checked = 0
        for key in store.allRecordKeys() {
            guard let record = store.record(key), record.status == .succeeded,
                  stages.contains(where: { record.stage == $0 || record.stage.hasPrefix($0 + "@") }) else { continue }
            let ref = try XCTUnwrap(record.outputs[ClaimsFile.fileName], "\(record.stage) wrote no claims.json")
            XCTAssertNoThrow(try ClaimsFile.read(from: store.objectPath(ref.digest)), record.stage)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, stages.count, "every analysis and figure stage ran and was checked")

        // The machine's plan was measured once and kept; every stage that ran a network recorded the plan it
        // ran with, and the audit below recomputes with that plan.
        let plans = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("engine-plans").path)
        XCTAssertEqual(plans.filter { $0.hasSuffix(".json") }.count, 1, "\(plans)")
        let networkKinds: Set = ["train", "relative-loss", "first-steps", "gradient-histogram"]
        var planned = 0
        for key in store.allRecordKeys() {
            guard let record = store.record(key), record.status == .succeeded, networkKinds.contains(record.kind) else { continue }
            let json = try XCTUnwrap(record.enginePlan, "\(record.stage) recorded no engine plan")
            let plan = try JSONDecoder().decode(EnginePlanRecord.self, from: Data(json.utf8))
            XCTAssertTrue([8, 16].contains(plan.block), json)
            XCTAssertFalse(plan.convolutions.isEmpty, json)
            XCTAssertEqual(record.sourceDigest?.count, 64, "\(record.stage) recorded the digest of the source that made it")
            planned += 1
        }
        XCTAssertGreaterThan(planned, 0)
        XCTAssertNil(store.allRecordKeys().compactMap { store.record($0) }.first { $0.kind == "download" }?.enginePlan,
                     "a stage without a network records no plan")

        // Computed again at the thread count each stage ran with, every result is the same, byte for byte.
        let audit = try bnrepro(["audit", "--profile", "smoke", "-j", "2"] + set, in: dir)
        XCTAssertEqual(audit.status, 0, audit.output)
        let total = store.allRecordKeys().count
        XCTAssertTrue(audit.output.contains("\(total) stages audited: \(total) identical"), audit.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("tables/claims.md").path))
        // Every stage's claims.json has the same name: none is published over another's.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("figures/claims.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("tables/claims.json").path))

        // Every `bnrepro …` line of README's sh blocks, on this project: `run` as a dry run, the others as
        // written, at the smoke profile unless the line names one. A renamed stage or flag fails here.
        let readme = FigureStageTests.shipped.deletingLastPathComponent().appendingPathComponent("README.md")
        let examples = Self.readmeExamples(try String(contentsOf: readme, encoding: .utf8))
        XCTAssertGreaterThanOrEqual(examples.count, 10, "README's examples were not found")
        for var args in examples {
            if args.first == "run" && !args.contains("--dry-run") { args.append("--dry-run") }
            if args.first == "render-samples" { args = ["render-samples", dir.appendingPathComponent("samples").path] }
            let pipelineCommands: Set = ["run", "status", "dag", "show", "ls", "cat", "claims", "diff", "audit", "report", "gc", "verify", "estimate"]
            if let command = args.first, pipelineCommands.contains(command) {
                if !args.contains("--profile") { args += ["--profile", "smoke"] }
                args += set
            }
            let result = try bnrepro(args, in: dir)
            let strictFailure = args.contains("--strict") && result.status == 1 && result.output.contains("claims:")
            XCTAssertTrue(result.status == 0 || strictFailure, "README example `bnrepro \(args.joined(separator: " "))`: \(result.output)")
        }
    }

    /// The argument lists of README's `bnrepro` lines in ```sh blocks (comments after `#` dropped,
    /// single quotes honoured).
    static func readmeExamples(_ text: String) -> [[String]] {
        var inSh = false, examples: [[String]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") { inSh = !inSh && trimmed == "```sh"; continue }
            guard inSh, trimmed.hasPrefix("bnrepro ") else { continue }
            var words: [String] = [], word = "", quoted = false, started = false
            for ch in trimmed.dropFirst("bnrepro ".count) {
                if ch == "'" { quoted.toggle(); started = true; continue }
                if !quoted && ch == "#" { break }
                if !quoted && ch == " " {
                    if started { words.append(word); word = ""; started = false }
                    continue
                }
                word.append(ch); started = true
            }
            if started { words.append(word) }
            examples.append(words)
        }
        return examples
    }
}

/// The fields of a recorded engine plan this test reads (the record keeps it as JSON text).
private struct EnginePlanRecord: Decodable {
    let block: Int
    let convolutions: [String: String]
}
