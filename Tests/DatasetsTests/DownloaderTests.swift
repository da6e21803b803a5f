import Crypto
import Foundation
import XCTest
@testable import Datasets
import DatasetsTestSupport

final class DownloaderTests: XCTestCase {
    private var dir: URL!
    private var server: TestHTTPServer?
    private let cifar = SyntheticCIFAR(recordsPerFile: 20)
    private lazy var archive = cifar.tarGz()
    private var md5: String { Insecure.MD5.hash(data: archive).map { String(format: "%02x", $0) }.joined() }
    // Fast retries: tests wait milliseconds, not the production back-off.
    private let quick = Downloader(timeout: 5, retries: 3, backoff: 0.01, progressInterval: 0)

    override func setUpWithError() throws { dir = try temporaryDirectory("download") }

    override func tearDownWithError() throws {
        server?.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    private func serve(_ behaviour: TestHTTPServer.Behaviour = .serve) throws -> TestHTTPServer {
        let s = try TestHTTPServer(bodies: ["/cifar-10-binary.tar.gz": archive], behaviour: behaviour)
        server = s
        return s
    }

    private var destination: URL { dir.appendingPathComponent("downloads/cifar-10-binary.tar.gz") }

    func testFetchesOverHTTPVerifiesAndReportsProgress() throws {
        let s = try serve()
        var reports: [DownloadProgress] = []
        let result = try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5) {
            reports.append($0)
        }
        XCTAssertEqual(result.md5, md5)
        XCTAssertEqual(result.attempts, 1)
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), archive)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Downloader.partialFile(for: destination).path))
        XCTAssertEqual(reports.last?.bytes, Int64(archive.count))
        XCTAssertEqual(reports.last?.totalBytes, Int64(archive.count))
        XCTAssertEqual(reports.last?.etaSeconds ?? 0, 0, accuracy: 1e-9)
        // The downloaded archive decodes to the pixels it was built from.
        let data = try CIFAR10Decoder(recordsPerFile: 20).decode(archive: destination)
        XCTAssertEqual(data.test.images[5], SyntheticCIFAR.pixel(100, 0, 0, 5))
        // A second fetch finds the verified file in place and makes no request.
        let again = try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5)
        XCTAssertEqual(again.attempts, 0)
        XCTAssertEqual(s.requests.count, 1)
    }

    func testChecksumMismatchDeletesTheFileAndSaysExpectedAndGot() throws {
        let s = try serve()
        let wrong = String(repeating: "0", count: 32)
        XCTAssertThrowsError(try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: wrong)) {
            XCTAssertEqual($0 as? DownloadError, .checksumMismatch(url: s.url("/cifar-10-binary.tar.gz").absoluteString,
                                                                  expectedMD5: wrong, gotMD5: md5, bytes: Int64(archive.count)))
            XCTAssertTrue("\($0)".contains("expected MD5 \(wrong), got \(md5)"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: Downloader.partialFile(for: destination).path))
    }

    func testTransferCutOffHalfWayIsResumedWithRange() throws {
        let half = archive.count / 2
        let s = try serve(.cutOff(bytes: half, times: 1))
        let result = try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5)
        XCTAssertEqual(result.attempts, 2)
        XCTAssertEqual(s.requests.map(\.range), [nil, "bytes=\(half)-"])
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), archive)
    }

    func testPartialFileFromAnEarlierRunIsResumed() throws {
        let s = try serve()
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(archive.prefix(1000)).write(to: Downloader.partialFile(for: destination))
        let result = try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5)
        XCTAssertEqual(result.resumedBytes, 1000)
        XCTAssertEqual(s.requests.map(\.range), ["bytes=1000-"])
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), archive)
    }

    func testAWholePartialFromARunThatDiedBeforeVerifyingIsKept() throws {
        let s = try serve()
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(archive).write(to: Downloader.partialFile(for: destination))
        let result = try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5)
        XCTAssertEqual(s.requests.map(\.range), ["bytes=\(archive.count)-"])  // answered 416
        XCTAssertEqual(result.resumedBytes, Int64(archive.count))
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), archive)
    }

    func testServerThatIgnoresRangeStartsOver() throws {
        let s = try serve(.ignoreRange)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([UInt8](repeating: 0xEE, count: 777)).write(to: Downloader.partialFile(for: destination))
        let result = try quick.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5)
        XCTAssertEqual(result.resumedBytes, 0)
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), archive)
    }

    func testUnreachableHostIsRetriedThenReported() throws {
        let url = URL(string: "http://127.0.0.1:\(TestHTTPServer.closedPort())/cifar-10-binary.tar.gz")!
        let downloader = Downloader(timeout: 2, retries: 2, backoff: 0.01)
        XCTAssertThrowsError(try downloader.fetch(url: url, to: destination, expectedMD5: md5)) { error in
            guard case DownloadError.failed(_, let attempts, let last) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(attempts, 3)
            XCTAssertTrue(last.contains("connect"), last)
            XCTAssertTrue("\(error)".contains("after 3 attempts"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination.path))
    }

    func testStalledServerTimesOut() throws {
        let s = try serve(.stall)
        let downloader = Downloader(timeout: 1, retries: 1, backoff: 0.01)
        let start = Date()
        XCTAssertThrowsError(try downloader.fetch(url: s.url("/cifar-10-binary.tar.gz"), to: destination, expectedMD5: md5)) {
            guard case DownloadError.failed(_, 2, let last) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(last.contains("timed out"), last)
        }
        // A lower bound only: a loaded machine makes the wait longer, never shorter.
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 1.5, "each attempt should wait the full timeout")
        XCTAssertEqual(s.requests.count, 2)
        // The timeout fired in the client, not in the server: it closed both stalled connections while the
        // server still waited on them (the server gives up after 10 s and never counts its own close).
        // An event, not a wall-clock bound.
        let counted = expectation(description: "the client hung up on both stalled connections")
        DispatchQueue.global().async {
            var polls = 0
            while s.clientHangups < 2 && polls < 3_000 { usleep(10_000); polls += 1 }
            if s.clientHangups >= 2 { counted.fulfill() }
        }
        wait(for: [counted], timeout: 30)
        XCTAssertEqual(s.clientHangups, 2)
    }

    func testMissingResourceIsNotRetried() throws {
        let s = try serve()
        XCTAssertThrowsError(try quick.fetch(url: s.url("/nope.tar.gz"), to: destination, expectedMD5: md5)) {
            XCTAssertEqual($0 as? DownloadError, .httpStatus(url: s.url("/nope.tar.gz").absoluteString, status: 404))
        }
        XCTAssertEqual(s.requests.count, 1)
    }

    func testFileURLsAreCopiedAndVerified() throws {
        let source = dir.appendingPathComponent("mirror.tar.gz")
        try Data(archive).write(to: source)
        let result = try quick.fetch(url: source, to: destination, expectedMD5: md5.uppercased())
        XCTAssertEqual(result.md5, md5)
        XCTAssertEqual(try [UInt8](Data(contentsOf: destination)), archive)
        let missing = dir.appendingPathComponent("absent.tar.gz")
        XCTAssertThrowsError(try quick.fetch(url: missing, to: dir.appendingPathComponent("b.tar.gz"), expectedMD5: md5)) {
            XCTAssertEqual($0 as? DownloadError, .sourceMissing(url: missing.absoluteString))
        }
        XCTAssertThrowsError(try quick.fetch(url: URL(string: "ftp://127.0.0.1/x")!, to: destination, expectedMD5: md5))
    }
}
