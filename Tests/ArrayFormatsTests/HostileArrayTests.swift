import Foundation
import XCTest
@testable import ArrayFormats

/// Headers written to break the readers: sizes that overflow, negative dimensions, offsets past the
/// data, overlapping tensors, headers over 1 MB. Each must be an error naming the file and the fault.
final class HostileArrayTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-arrays-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// The error `read(from:)` throws for `bytes` saved as `name`: it must name the file's path.
    private func readError(_ bytes: [UInt8], as name: String, _ read: (URL) throws -> Void) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        do { try read(url) } catch {
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(url.path + ": "), "the error names the file: \(message)")
            return message
        }
        XCTFail("\(name) was accepted")
        return ""
    }

    // MARK: .npy

    func testNPYShapeWhoseProductOverflowsIsAnError() throws {
        // 2^32 × 2^32 = 2^64: `shape.reduce(1, *)` trapped on this before.
        let bytes = ArrayFileBytes.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data: [0, 0, 0, 0])
        XCTAssertThrowsError(try NPY.decode(bytes)) { XCTAssertEqual($0 as? NPYError, .shapeOverflow(shape: [4294967296, 4294967296])) }
        // Elements that fit but bytes that do not: 2^62 float32 elements are 2^64 bytes.
        let bytesOverflow = ArrayFileBytes.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }")
        XCTAssertThrowsError(try NPY.decode(bytesOverflow)) { XCTAssertEqual($0 as? NPYError, .shapeOverflow(shape: [4611686018427387904])) }
        let message = try readError(bytes, as: "huge.npy") { _ = try NPY.read(from: $0) }
        XCTAssertTrue(message.contains("shape [4294967296, 4294967296] has more elements than an Int can count"), message)
    }

    func testNPYNegativeDimensionIsAnErrorEvenWhenTheProductIsPositive() throws {
        // (-2, -3) multiplies to 6, and 6 bytes of uint8 follow: only the sign says it is wrong.
        let bytes = ArrayFileBytes.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (-2, -3), }", data: [1, 2, 3, 4, 5, 6])
        XCTAssertThrowsError(try NPY.decode(bytes)) { XCTAssertEqual($0 as? NPYError, .negativeDimension(shape: [-2, -3])) }
        let message = try readError(bytes, as: "negative.npy") { _ = try NPY.read(from: $0) }
        XCTAssertTrue(message.contains("shape [-2, -3] has a negative dimension"), message)
        XCTAssertThrowsError(try NPYArray(uint8: [1, 2, 3, 4, 5, 6], shape: [-2, -3]))
    }

    func testNPYDimensionTooLargeForAnIntIsAnError() throws {
        let bytes = ArrayFileBytes.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,), }")
        XCTAssertThrowsError(try NPY.decode(bytes)) { error in
            XCTAssertEqual(error as? NPYError, .malformedHeader("shape dimension 99999999999999999999 does not fit in an Int"))
        }
    }

    func testNPYDataShorterThanTheShapeIsAnError() throws {
        let bytes = ArrayFileBytes.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data: [UInt8](repeating: 0, count: 16))
        let message = try readError(bytes, as: "short.npy") { _ = try NPY.read(from: $0) }
        XCTAssertTrue(message.contains(".npy data is 16 bytes but the header's shape and dtype need 24"), message)
    }

    func testNPYHeaderOverOneMegabyteIsRefusedBeforeItIsRead() throws {
        // A version 2.0 preamble claiming a 2 MB header; the file need not even hold it.
        let preamble: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0] + [0x00, 0x00, 0x20, 0x00]
        XCTAssertThrowsError(try NPY.decode(preamble + Array("{".utf8))) { XCTAssertEqual($0 as? NPYError, .headerTooLarge(bytes: 2 << 20)) }
        // And a real one: a valid header padded past 1 MB.
        var dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }"
        dict += String(repeating: " ", count: 1 << 20)
        dict += "\n"
        let n = dict.utf8.count
        let real: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0, UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n >> 16), 0]
            + Array(dict.utf8) + [7]
        let message = try readError(real, as: "big-header.npy") { _ = try NPY.read(from: $0) }
        XCTAssertTrue(message.contains(".npy header is \(n) bytes; a header may have at most 1048576 bytes (1 MB)"), message)
    }

    // MARK: safetensors

    private func tensor(_ name: String, _ dtype: String, _ shape: String, _ offsets: String) -> String {
        #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
    }

    func testSafeTensorsShapeWhoseProductOverflowsIsAnError() throws {
        let bytes = ArrayFileBytes.safeTensors("{" + tensor("w", "F32", "[4294967296,4294967296]", "[0,8]") + "}", data: [UInt8](repeating: 0, count: 8))
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .shapeOverflow(name: "w", shape: [4294967296, 4294967296]))
        }
        let message = try readError(bytes, as: "huge.safetensors") { _ = try SafeTensors.read(from: $0) }
        XCTAssertTrue(message.contains("tensor 'w' has shape [4294967296, 4294967296], with more elements than an Int can count"), message)
    }

    func testSafeTensorsOffsetsNearIntMaxArePastTheEndNotATrap() throws {
        // `headerEnd + offset` trapped on this before.
        let bytes = ArrayFileBytes.safeTensors("{" + tensor("w", "U8", "[7]", "[9223372036854775800,9223372036854775807]") + "}", data: [1, 2])
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .offsetsPastEnd(name: "w", end: 9223372036854775807, dataBytes: 2))
        }
        let message = try readError(bytes, as: "far.safetensors") { _ = try SafeTensors.read(from: $0) }
        XCTAssertTrue(message.contains("tensor 'w' ends at byte 9223372036854775807 of the data, past its end (the data is 2 bytes)"), message)
        // Offsets beyond Int, reversed or negative are errors too.
        for (offsets, expected) in [("[0,18446744073709551616]", "data_offsets must be two integers"),
                                    ("[2,1]", "data_offsets [2, 1]; they need 0 ≤ begin ≤ end"),
                                    ("[-1,1]", "data_offsets [-1, 1]; they need 0 ≤ begin ≤ end"),
                                    ("[0,1.5]", "data_offsets must be two integers")] {
            let file = ArrayFileBytes.safeTensors("{" + tensor("w", "U8", "[1]", offsets) + "}", data: [1, 2])
            XCTAssertThrowsError(try SafeTensors.decode(file)) { XCTAssertTrue("\($0)".contains(expected), "\(offsets): \($0)") }
        }
    }

    func testSafeTensorsNegativeDimensionIsAnErrorEvenWhenTheProductIsPositive() throws {
        let bytes = ArrayFileBytes.safeTensors("{" + tensor("w", "F32", "[-2,-3]", "[0,24]") + "}", data: [UInt8](repeating: 0, count: 24))
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .negativeDimension(name: "w", shape: [-2, -3]))
        }
        let message = try readError(bytes, as: "negative.safetensors") { _ = try SafeTensors.read(from: $0) }
        XCTAssertTrue(message.contains("tensor 'w' has shape [-2, -3], with a negative dimension"), message)
    }

    func testSafeTensorsOverlappingTensorsAreAnError() throws {
        let header = "{" + tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("b", "F32", "[2]", "[4,12]") + "}"
        let bytes = ArrayFileBytes.safeTensors(header, data: [UInt8](repeating: 0, count: 12))
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) { XCTAssertEqual($0 as? SafeTensorsError, .overlapping(name: "b", other: "a")) }
        let message = try readError(bytes, as: "overlap.safetensors") { _ = try SafeTensors.read(from: $0) }
        XCTAssertTrue(message.contains("tensors 'a' and 'b' overlap in the data"), message)
        // One inside another, and the same bytes twice, overlap too; empty tensors and neighbours do not.
        let inside = "{" + tensor("big", "U8", "[8]", "[0,8]") + "," + tensor("small", "U8", "[2]", "[3,5]") + "}"
        XCTAssertThrowsError(try SafeTensors.decode(ArrayFileBytes.safeTensors(inside, data: [UInt8](repeating: 0, count: 8))))
        let twice = "{" + tensor("x", "U8", "[4]", "[0,4]") + "," + tensor("y", "U8", "[4]", "[0,4]") + "}"
        XCTAssertThrowsError(try SafeTensors.decode(ArrayFileBytes.safeTensors(twice, data: [UInt8](repeating: 0, count: 4))))
        let fine = "{" + tensor("x", "U8", "[4]", "[0,4]") + "," + tensor("e", "U8", "[0]", "[2,2]") + "," + tensor("y", "U8", "[4]", "[4,8]") + "}"
        let decoded = try SafeTensors.decode(ArrayFileBytes.safeTensors(fine, data: Array(0..<8)))
        XCTAssertEqual(decoded.tensors["y"]?.bytes, [4, 5, 6, 7])
        XCTAssertEqual(decoded.tensors["e"]?.shape, [0])
    }

    func testSafeTensorsHeaderOverOneMegabyteIsAnError() throws {
        // A valid file whose metadata makes the header larger than 1 MB.
        let header = #"{"__metadata__":{"pad":""# + String(repeating: "x", count: 1 << 20) + #""},"# + tensor("w", "U8", "[1]", "[0,1]") + "}"
        let bytes = ArrayFileBytes.safeTensors(header, data: [9])
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) {
            XCTAssertEqual($0 as? SafeTensorsError, .headerTooLarge(bytes: UInt64(header.utf8.count)))
        }
        let message = try readError(bytes, as: "big-header.safetensors") { _ = try SafeTensors.read(from: $0) }
        XCTAssertTrue(message.contains("safetensors header is \(header.utf8.count) bytes; a header may have at most 1048576 bytes (1 MB)"), message)
        // A length prefix near 2^64 is refused the same way, before anything is sliced.
        XCTAssertThrowsError(try SafeTensors.decode(ArrayFileBytes.lengthPrefix(.max) + [0x7B])) {
            XCTAssertEqual($0 as? SafeTensorsError, .headerTooLarge(bytes: .max))
        }
    }

    func testSafeTensorsDeeplyNestedHeaderIsAnError() throws {
        // Under the 1 MB limit, but nested far deeper than any JSON parser's stack should go.
        let header = String(repeating: "[", count: 500_000) + String(repeating: "]", count: 500_000)
        XCTAssertThrowsError(try SafeTensors.decode(ArrayFileBytes.safeTensors(header)))
    }

    func testSafeTensorsSizeNotMatchingTheShapeIsAnError() throws {
        let bytes = ArrayFileBytes.safeTensors("{" + tensor("w", "F64", "[2]", "[0,12]") + "}", data: [UInt8](repeating: 0, count: 12))
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) {
            XCTAssertEqual($0 as? SafeTensorsError, .sizeMismatch(name: "w", bytes: 12, expected: 16))
        }
    }
}
