import Foundation

/// Array files written byte by byte, so that a test can say exactly what a hostile header holds.
enum ArrayFileBytes {
    /// A version 1.0 .npy file with `dict` as its header (padded as NumPy pads it), then `data`.
    static func npy(_ dict: String, data: [UInt8] = []) -> [UInt8] {
        var header = dict
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    /// A safetensors file: the little-endian length of `header`, the header, then `data`.
    static func safeTensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
        lengthPrefix(UInt64(header.utf8.count)) + Array(header.utf8) + data
    }

    static func lengthPrefix(_ n: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
    }
}
