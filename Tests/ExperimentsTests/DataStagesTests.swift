import Crypto
import Datasets
import DatasetsTestSupport
import Foundation
@testable import Pipeline
import XCTest
@testable import Experiments

/// The `download` and `cifar10-decode` kinds, run the way the runner runs them: a context with params,
/// dependency files and a fresh output directory.
final class DataStagesTests: XCTestCase {
    private var dir: URL!
    private let cifar = SyntheticCIFAR(recordsPerFile: 30)

    override func setUpWithError() throws { dir = try temporaryDirectory("data-stages") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func context(_ stage: String, _ kind: any StageKind, _ params: [(String, JSONValue)],
                         inputs: [StageInputs] = []) throws -> StageContext {
        var object = JSONObject()
        for spec in kind.parameters { if let d = spec.defaultValue { object[spec.name] = d } }
        for (k, v) in params { object[k] = v }
        let out = dir.appendingPathComponent("\(stage)/out"), scratch = dir.appendingPathComponent("\(stage)/scratch")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        return StageContext(stage: stage, key: "k-\(stage)", params: object, inputs: inputs, outputDirectory: out,
                            scratchDirectory: scratch, partialsDirectory: dir.appendingPathComponent("\(stage)/partials"),
                            progress: { _ in })
    }

    private func md5(_ bytes: [UInt8]) -> String { Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    func testDownloadThenDecodeOverHTTP() throws {
        let archive = cifar.tarGz()
        let server = try TestHTTPServer(bodies: ["/c.tar.gz": archive])
        defer { server.stop() }
        let download = try context("download", DownloadStage(), [
            ("url", .string(server.url("/c.tar.gz").absoluteString)), ("md5", .string(md5(archive))), ("retries", 1),
        ])
        try DownloadStage().run(download)
        let fetched = download.output(DownloadStage.outputName)
        XCTAssertEqual(try [UInt8](Data(contentsOf: fetched)), archive)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: download.outputDirectory.path),
                       [DownloadStage.outputName])

        let decode = try context("decode", CIFAR10DecodeStage(), [("records_per_file", 30)], inputs: [
            StageInputs(stage: "download", kind: "download", params: download.params, files: [DownloadStage.outputName: fetched]),
        ])
        try CIFAR10DecodeStage().run(decode)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: decode.outputDirectory.path)),
                       Set(CIFAR10Arrays.fileNames))
        // Downstream stages see the outputs as store objects named by digest: load through that map.
        let objects = dir.appendingPathComponent("objects")
        try FileManager.default.createDirectory(at: objects, withIntermediateDirectories: true)
        var files: [String: URL] = [:]
        for (k, name) in CIFAR10Arrays.fileNames.enumerated() {
            let object = objects.appendingPathComponent("object-\(k)")
            try FileManager.default.copyItem(at: decode.output(name), to: object)
            files[name] = object
        }
        let (data, stats) = try CIFAR10Arrays.load(files: files)
        files[CIFAR10Arrays.testLabels] = nil
        XCTAssertThrowsError(try CIFAR10Arrays.load(files: files)) { XCTAssertTrue("\($0)".contains("test_labels.npy")) }
        XCTAssertEqual(data.train.count, 150)
        XCTAssertEqual(data.test.count, 30)
        XCTAssertEqual(data.train.images[3072 * 7 + 1024 + 33], SyntheticCIFAR.pixel(7, 1, 1, 1))
        XCTAssertEqual(data.test.labels[4], SyntheticCIFAR.label(154))
        XCTAssertEqual(stats, ChannelStats(of: data.train))
    }

    func testDownloadChecksumMismatchLeavesNoOutput() throws {
        let source = dir.appendingPathComponent("mirror.tar.gz")
        try Data(cifar.tarGz()).write(to: source)
        let download = try context("download", DownloadStage(), [
            ("url", .string(source.absoluteString)), ("md5", .string(String(repeating: "a", count: 32))),
        ])
        XCTAssertThrowsError(try DownloadStage().run(download)) {
            XCTAssertTrue("\($0)".contains("expected MD5 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, got \(self.md5(self.cifar.tarGz()))"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: download.outputDirectory.path), [])
    }

    func testDownloadRejectsBadParams() throws {
        let bad = try context("download", DownloadStage(), [("md5", "xyz")])
        XCTAssertThrowsError(try DownloadStage().run(bad)) { XCTAssertTrue("\($0)".contains("md5")) }
        let ftp = try context("download", DownloadStage(), [("url", "ftp://127.0.0.1/x")])
        XCTAssertThrowsError(try DownloadStage().run(ftp)) { XCTAssertTrue("\($0)".contains("url")) }
    }

    func testDecodeOfACorruptArchiveFailsNamingTheMember() throws {
        var batch = cifar.batch(4)
        batch[3 * 3073] = 200
        let file = dir.appendingPathComponent("bad.tar.gz")
        try Data(cifar.tarGz(replace: ["data_batch_5.bin": batch])).write(to: file)
        let decode = try context("decode", CIFAR10DecodeStage(), [("records_per_file", 30)], inputs: [
            StageInputs(stage: "download", kind: "download", params: JSONObject(), files: ["cifar-10-binary.tar.gz": file]),
        ])
        XCTAssertThrowsError(try CIFAR10DecodeStage().run(decode)) {
            XCTAssertTrue("\($0)".contains("data_batch_5.bin', record 3: label 200"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: decode.outputDirectory.path), [])
    }

    func testAFailedRunLeavesAPartialThatTheNextRunResumes() throws {
        let archive = cifar.tarGz()
        let half = archive.count / 2
        let server = try TestHTTPServer(bodies: ["/c.tar.gz": archive], behaviour: .cutOff(bytes: half, times: 1))
        defer { server.stop() }
        // A fresh work directory per attempt, one partials directory for the stage, as the runner does.
        let partials = dir.appendingPathComponent("data/cache/partials/download")
        func run(_ attempt: Int) throws -> StageContext {
            var params = JSONObject()
            for spec in DownloadStage().parameters { if let d = spec.defaultValue { params[spec.name] = d } }
            params["url"] = .string(server.url("/c.tar.gz").absoluteString)
            params["md5"] = .string(md5(archive))
            params["retries"] = 0
            let work = dir.appendingPathComponent("data/cache/tmp/work-\(attempt)")
            let out = work.appendingPathComponent("out"), scratch = work.appendingPathComponent("scratch")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: partials, withIntermediateDirectories: true)
            let c = StageContext(stage: "download", key: "k", params: params, inputs: [], outputDirectory: out,
                                 scratchDirectory: scratch, partialsDirectory: partials, progress: { _ in })
            try DownloadStage().run(c)
            return c
        }
        XCTAssertThrowsError(try run(1)) { XCTAssertTrue("\($0)".contains("after 1 attempt"), "\($0)") }
        let partial = partials.appendingPathComponent("\(DownloadStage.outputName).partial")
        XCTAssertEqual(try Data(contentsOf: partial).count, half)
        let second = try run(2)
        XCTAssertEqual(server.requests.map(\.range), [nil, "bytes=\(half)-"])
        XCTAssertEqual(try [UInt8](Data(contentsOf: second.output(DownloadStage.outputName))), archive)
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path))
    }
}
