import DatasetsTestSupport
import Foundation
import Pipeline
import XCTest

/// After one smoke run of the shipped pipeline.json through the real binary, the cache is consistent:
/// `status` says everything is up to date, `verify` passes, a second run computes nothing, and figures/
/// holds every figure. On the team's CIFAR-10 copy (../shared/data, by file URL) where the checkout has
/// it beside it, else on a generated archive; the output says which.
extension SmokeEndToEndTests {
    func testOneSmokeRunLeavesEverythingUpToDateVerifiedAndPublished() throws {
        let dir = try temporaryDirectory("bnrepro-consistency")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: FigureStageTests.shipped, to: dir.appendingPathComponent("pipeline.json"))
        let shared = FigureStageTests.shipped.deletingLastPathComponent()
            .appendingPathComponent("../shared/data/cifar-10-binary.tar.gz").standardizedFileURL
        var set: [String]
        let archive: URL
        if FileManager.default.fileExists(atPath: shared.path) {
            archive = shared
            set = []
            print("SmokeEndToEndTests consistency: the CIFAR-10 copy at \(shared.path)")
        } else {
            archive = dir.appendingPathComponent("cifar.tar.gz")
            try Data(SyntheticCIFAR(recordsPerFile: 240).tarGz()).write(to: archive)
            set = ["--set", "decode.params.records_per_file=240"]
            print("SmokeEndToEndTests consistency: no CIFAR-10 copy at \(shared.path); a generated archive")
        }
        let md5 = try MD5Sum.of(archive)
        set += ["--profile", "smoke", "--set", "download.params.url=\(archive.absoluteString)", "--set", "download.params.md5=\(md5)"]

        let first = try bnrepro(["run", "-j", "2"] + set, in: dir)
        XCTAssertEqual(first.status, 0, first.output)

        let status = try bnrepro(["status"] + set, in: dir)
        XCTAssertEqual(status.status, 0, status.output)
        let doc = try PipelineDocument.load(dir.appendingPathComponent("pipeline.json"))
        let summary = try XCTUnwrap(status.output.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(summary.hasSuffix("up to date, 0 stale, 0 never run"), status.output)
        XCTAssertFalse(status.output.contains("unreadable"), status.output)
        XCTAssertGreaterThan(doc.stages.count, 0)

        let verify = try bnrepro(["verify"] + set, in: dir)
        XCTAssertEqual(verify.status, 0, verify.output)

        let second = try bnrepro(["run", "-j", "2"] + set, in: dir)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("ran 0,"), "a second run computes nothing:\n\(second.output)")

        // Every figure stage published its PNG.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("pipeline.json")))
        let figureStages = try XCTUnwrap((raw as? [String: Any])?["figures"] as? [String: Any]).keys
        let published = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("figures").path)
            .filter { $0.hasSuffix(".png") }
        XCTAssertEqual(published.count, figureStages.count, "figures/: \(published.sorted())")
    }
}
