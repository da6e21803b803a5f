import XCTest
@testable import ArrayFormats

final class SafeTensorsTests: XCTestCase {
    func testRoundTripAndLayout() throws {
        var file = SafeTensorsFile(metadata: ["config": "{\"depth\":110}"])
        file.tensors["b"] = try SafeTensor(float32: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        file.tensors["a"] = try SafeTensor(float64: [0.5], shape: [])
        let bytes = try SafeTensors.encode(file)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.1) << (8 * $1.0) }
        XCTAssertEqual((8 + n) % 8, 0, "data starts 8-byte aligned")
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.contains("\"a\":{\"data_offsets\":[0,8],\"dtype\":\"F64\",\"shape\":[]}"), header)
        XCTAssertTrue(header.contains("\"b\":{\"data_offsets\":[8,32],\"dtype\":\"F32\",\"shape\":[2,3]}"), header)
        let back = try SafeTensors.decode(bytes)
        XCTAssertEqual(back, file)
        XCTAssertEqual(try back.tensor("b").float32Values(), [1, 2, 3, 4, 5, 6])
    }

    /// A file as the Python `safetensors` package writes it (header bytes written out by hand).
    func testReadsForeignFile() throws {
        let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var bytes = [UInt8]()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header.utf8)
        [Float(1.5), -2].withUnsafeBytes { bytes.append(contentsOf: $0) }
        let f = try SafeTensors.decode(bytes)
        XCTAssertEqual(try f.tensor("w").float32Values(), [1.5, -2])
        XCTAssertEqual(f.metadata["format"], "pt")
    }

    func testRejectsBrokenFiles() throws {
        XCTAssertThrowsError(try SafeTensors.decode([1, 2, 3]))
        var bytes = try SafeTensors.encode(SafeTensorsFile(tensors: ["x": try SafeTensor(float32: [1, 2], shape: [2])]))
        bytes.removeLast()
        XCTAssertThrowsError(try SafeTensors.decode(bytes)) { e in XCTAssertTrue("\(e)".contains("'x'")) }
        XCTAssertThrowsError(try SafeTensorsFile().tensor("nope")) { e in XCTAssertTrue("\(e)".contains("nope")) }
        XCTAssertThrowsError(try SafeTensor(float32: [1], shape: [2]))
    }
}
