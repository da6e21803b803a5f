import Foundation
import XCTest
@testable import Datasets
import DatasetsTestSupport

final class CIFAR10DecoderTests: XCTestCase {
    private let n = 120  // records per batch file
    private var dir: URL!

    override func setUpWithError() throws { dir = try temporaryDirectory("cifar-decode") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ bytes: [UInt8], _ name: String = "cifar-10-binary.tar.gz") throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func decode(_ bytes: [UInt8]) throws -> CIFAR10 {
        try CIFAR10Decoder(recordsPerFile: n).decode(archive: try write(bytes))
    }

    func testDecodesEveryPixelAndLabelInRGBPlaneOrder() throws {
        for magic in [ArchiveBuilder.Magic.posix, .gnu] {
            let data = try decode(SyntheticCIFAR(recordsPerFile: n).tarGz(magic: magic))
            XCTAssertEqual(data.train.count, 5 * n)
            XCTAssertEqual(data.test.count, n)
            XCTAssertEqual(data.classNames, SyntheticCIFAR.classNames)
            for (split, offset) in [(data.train, 0), (data.test, 5 * n)] {
                var mismatches = 0
                for i in 0..<split.count {
                    XCTAssertEqual(split.labels[i], SyntheticCIFAR.label(offset + i))
                    for c in 0..<3 { for y in 0..<32 { for x in 0..<32 {
                        let got = split.images[i * 3072 + c * 1024 + y * 32 + x]
                        if got != SyntheticCIFAR.pixel(offset + i, c, y, x) { mismatches += 1 }
                    } } }
                }
                XCTAssertEqual(mismatches, 0)
            }
            // Spot checks written out, so that the layout is visible here and not only in a formula:
            // image 0 (R,0,0) = 0, (G,0,0) = 85, (B,0,0) = 170, (B,31,31) = (170+217+93)%256.
            XCTAssertEqual(Array(data.train.images[0..<2]), [0, 3])
            XCTAssertEqual(data.train.images[1024], 85)
            XCTAssertEqual(data.train.images[2048], 170)
            XCTAssertEqual(data.train.images[3071], UInt8((170 + 217 + 93) % 256))
            XCTAssertEqual(data.test.images[0], UInt8((5 * n * 31) % 256))
        }
    }

    func testStreamsAcrossTinyChunksAndLongNames() throws {
        // A GNU long-name member and 7-byte input chunks exercise every buffer boundary of the tar reader.
        let long = String(repeating: "d/", count: 60) + "ignored.bin"
        let tar = SyntheticCIFAR(recordsPerFile: 2).tar(extra: [(long, [1, 2, 3])])
        var reader = TarReader(archive: "t.tar") { _ in true }
        try tar.withUnsafeBytes { raw in
            var i = 0
            while i < raw.count {
                try reader.consume(UnsafeRawBufferPointer(rebasing: raw[i..<min(i + 7, raw.count)]))
                i += 7
            }
        }
        let members = try reader.finish()
        XCTAssertEqual(members.first { $0.name == long }?.bytes, [1, 2, 3])
        XCTAssertEqual(members.count, 9)  // meta, 5 train, test, readme, the long name; the directory is skipped
    }

    func testIgnoresOtherMembersAndNeedsNoReadme() throws {
        let archive = SyntheticCIFAR(recordsPerFile: n).tarGz(drop: ["readme.html"], extra: [("notes/x.txt", [1])])
        XCTAssertEqual(try decode(archive).train.count, 5 * n)
    }

    func testWritesArraysAndStatsThatLoadBack() throws {
        let data = try decode(SyntheticCIFAR(recordsPerFile: n).tarGz())
        let stats = ChannelStats(of: data.train)
        let out = dir.appendingPathComponent("out")
        try CIFAR10Arrays.write(data, stats: stats, to: out)
        let (back, backStats) = try CIFAR10Arrays.load(from: out)
        XCTAssertEqual(back, data)
        XCTAssertEqual(backStats, stats)
        // Reference statistics, computed the slow obvious way.
        for c in 0..<3 {
            var values: [Double] = []
            for i in 0..<data.train.count {
                for p in 0..<1024 { values.append(Double(data.train.images[i * 3072 + c * 1024 + p]) / 255) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            XCTAssertEqual(stats.mean[c], mean, accuracy: 1e-9)
            XCTAssertEqual(stats.std[c], variance.squareRoot(), accuracy: 1e-9)
        }
        let summary = try JSONDecoder().decode(CIFAR10Arrays.Summary.self,
                                               from: Data(contentsOf: out.appendingPathComponent(CIFAR10Arrays.summary)))
        XCTAssertEqual(summary.trainCount, 5 * n)
        XCTAssertEqual(summary.trainPerClass, data.train.countsPerClass())
        XCTAssertEqual(summary.testPerClass.reduce(0, +), n)
    }

    // MARK: bad input: each a clear error naming the archive and the member or field

    func testTruncatedGzip() throws {
        let good = SyntheticCIFAR(recordsPerFile: n).tarGz()
        XCTAssertThrowsError(try decode(Array(good.prefix(good.count / 2)))) { error in
            guard case ArchiveError.gzipTruncated(let archive, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(archive, "cifar-10-binary.tar.gz")
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }

    func testCorruptGzipAndNotGzip() throws {
        var bad = SyntheticCIFAR(recordsPerFile: n).tarGz()
        for k in 100..<140 { bad[k] ^= 0x5A }
        XCTAssertThrowsError(try decode(bad)) { error in
            guard case ArchiveError.gzipCorrupt = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try decode(Array("hello, not gzip".utf8))) {
            XCTAssertEqual($0 as? ArchiveError, .notGzip(archive: "cifar-10-binary.tar.gz"))
        }
    }

    func testCorruptedTarHeader() throws {
        var tar = SyntheticCIFAR(recordsPerFile: n).tar()
        tar[512 + 10] ^= 0x01  // a byte of the second member's name: its checksum no longer matches
        XCTAssertThrowsError(try decode(ArchiveBuilder.gzip(tar))) { error in
            guard case ArchiveError.tarHeaderChecksum(_, let offset, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(offset, 512)
            XCTAssertTrue("\(error)".contains("tar header at byte 512"), "\(error)")
        }
    }

    func testMemberNamesThatEscapeAreRefused() throws {
        for name in ["../x", "/etc/x", "cifar-10-batches-bin/../../x"] {
            let archive = SyntheticCIFAR(recordsPerFile: 1).tarGz(extra: [(name, [0])])
            XCTAssertThrowsError(try CIFAR10Decoder(recordsPerFile: 1).decode(archive: try write(archive))) {
                XCTAssertEqual($0 as? ArchiveError, .unsafeMemberName(archive: "cifar-10-binary.tar.gz", member: name))
                XCTAssertTrue("\($0)".contains("escape"))
            }
        }
        // And nothing was created from those names anywhere near us.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("x").path))
    }

    func testPaxPathsAreReadAndCheckedToo() throws {
        func pax(_ path: String) -> [UInt8] {
            // A pax record is "<length> path=<value>\n", the length counting its own digits.
            let body = " path=\(path)\n"
            var n = body.utf8.count + 1
            while String(n).count + body.utf8.count != n { n += 1 }
            let record = Array((String(n) + body).utf8)
            return ArchiveBuilder.header(name: "PaxHeaders/x", size: record.count, type: UInt8(ascii: "x"))
                + ArchiveBuilder.padded(record)
        }
        let cifar = SyntheticCIFAR(recordsPerFile: 1)
        // The pax path renames the next member: "short" becomes a required batch file's full name.
        var tar = pax("cifar-10-batches-bin/test_batch.bin") + ArchiveBuilder.member("short", cifar.batch(5))
        tar += cifar.tar(drop: ["test_batch.bin"])
        let data = try CIFAR10Decoder(recordsPerFile: 1).decode(archive: try write(ArchiveBuilder.gzip(tar)))
        XCTAssertEqual(data.test.labels, [SyntheticCIFAR.label(5)])
        let evil = pax("../evil") + ArchiveBuilder.member("harmless", [1]) + cifar.tar()
        XCTAssertThrowsError(try CIFAR10Decoder(recordsPerFile: 1).decode(archive: try write(ArchiveBuilder.gzip(evil)))) {
            XCTAssertEqual($0 as? ArchiveError, .unsafeMemberName(archive: "cifar-10-binary.tar.gz", member: "../evil"))
        }
    }

    func testMissingBatchFile() throws {
        let archive = SyntheticCIFAR(recordsPerFile: n).tarGz(drop: ["data_batch_3.bin"])
        XCTAssertThrowsError(try decode(archive)) {
            XCTAssertEqual($0 as? CIFAR10Error, .missingMember(archive: "cifar-10-binary.tar.gz", member: "data_batch_3.bin"))
        }
    }

    func testBatchOfTheWrongSize() throws {
        let cifar = SyntheticCIFAR(recordsPerFile: n)
        let archive = cifar.tarGz(replace: ["test_batch.bin": Array(cifar.batch(5).dropLast(3073))])
        XCTAssertThrowsError(try decode(archive)) {
            XCTAssertEqual($0 as? CIFAR10Error, .wrongSize(archive: "cifar-10-binary.tar.gz",
                                                          member: "cifar-10-batches-bin/test_batch.bin",
                                                          expectedBytes: n * 3073, gotBytes: (n - 1) * 3073))
        }
    }

    func testLabelOutOfRange() throws {
        let cifar = SyntheticCIFAR(recordsPerFile: n)
        var batch = cifar.batch(1)
        batch[7 * 3073] = 10
        XCTAssertThrowsError(try decode(cifar.tarGz(replace: ["data_batch_2.bin": batch]))) {
            XCTAssertEqual($0 as? CIFAR10Error, .labelOutOfRange(archive: "cifar-10-binary.tar.gz",
                                                                member: "cifar-10-batches-bin/data_batch_2.bin",
                                                                record: 7, label: 10))
            XCTAssertTrue("\($0)".contains("record 7: label 10"))
        }
    }
}
