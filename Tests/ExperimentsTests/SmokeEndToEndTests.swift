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
        let md5 = try XCTUnwrap(String(decoding: try runMD5(archive), as: UTF8.self).split(separator: " ").first.map(String.init))
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
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("tables/claims.md").path))
    }

    private func runMD5(_ file: URL) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}
