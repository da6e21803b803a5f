import Foundation
import XCTest
@testable import ArrayFormats

/// Thousands of deterministically mutated files thrown at both decoders. None may trap; each must
/// either throw or return arrays whose byte counts are what their shapes and dtypes say.
final class DecoderFuzzTests: XCTestCase {
    static let mutationsPerSeed = 600

    /// SplitMix64: a fixed seed gives the same mutations on every run and machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Numbers that break naive size arithmetic, spelled as a header would hold them.
    static let hostileNumbers = ["-1", "-2", "0", "4294967296", "9223372036854775807", "-9223372036854775808",
                                 "9223372036854775808", "18446744073709551616", "99999999999999999999999",
                                 "4611686018427387904", "1e30", "2.5", "-0", "65536"]

    func testMutatedNPYFilesThrowOrDecodeConsistently() throws {
        let seeds = [
            NPY.encode(try NPYArray(float32: (0..<12).map(Float.init), shape: [3, 4])),
            NPY.encode(try NPYArray(uint8: [1, 2, 3], shape: [3])),
            NPY.encode(try NPYArray(float64: [1.5], shape: [])),
            NPY.encode(try NPYArray(int32: [1, -1, 7, 8, 9, 10], shape: [1, 2, 3])),
            ArrayFileBytes.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0, 3), }"),
        ]
        let (decoded, failed) = fuzz(seeds, format: .npy, seed: 0x4E50_5900) { bytes in
            let array = try NPY.decode(bytes)
            XCTAssertTrue(array.shape.allSatisfy { $0 >= 0 }, "negative dimension accepted: \(array.shape)")
            XCTAssertEqual(expectedBytes(array.shape, array.dtype.byteSize), array.bytes.count, "shape \(array.shape)")
        }
        print("npy fuzz: \(decoded) decoded, \(failed) rejected")
        XCTAssertTrue(decoded > 0 && failed > 0, "both outcomes are exercised")
    }

    func testMutatedSafeTensorsFilesThrowOrDecodeConsistently() throws {
        var checkpoint = SafeTensorsFile(metadata: ["config": "{\"depth\":8}", "format": "test"])
        checkpoint.tensors["conv.weight"] = try SafeTensor(float32: (0..<24).map(Float.init), shape: [2, 3, 2, 2])
        checkpoint.tensors["bn.bias"] = try SafeTensor(float64: [0.5, -0.5], shape: [2])
        checkpoint.tensors["step"] = SafeTensor(dtype: .int64, shape: [], bytes: [7, 0, 0, 0, 0, 0, 0, 0])
        let foreign = ArrayFileBytes.safeTensors(
            #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"U8","shape":[0,4],"data_offsets":[8,8]}}"#,
            data: [UInt8](repeating: 1, count: 8))
        let seeds = [try SafeTensors.encode(checkpoint), foreign, try SafeTensors.encode(SafeTensorsFile())]
        let (decoded, failed) = fuzz(seeds, format: .safeTensors, seed: 0x5354_0000) { bytes in
            let file = try SafeTensors.decode(bytes)
            for (name, t) in file.tensors {
                XCTAssertTrue(t.shape.allSatisfy { $0 >= 0 }, "\(name): negative dimension accepted: \(t.shape)")
                XCTAssertEqual(expectedBytes(t.shape, t.dtype.byteSize), t.bytes.count, "\(name): shape \(t.shape)")
            }
        }
        print("safetensors fuzz: \(decoded) decoded, \(failed) rejected")
        XCTAssertTrue(decoded > 0 && failed > 0, "both outcomes are exercised")
    }

    /// The byte count a shape needs, computed without trapping (nil on overflow). A zero dimension
    /// makes an empty array, however large the others.
    private func expectedBytes(_ shape: [Int], _ elementSize: Int) -> Int? {
        if shape.contains(0) { return 0 }
        var n = elementSize
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// Runs `check` on `mutationsPerSeed` mutants of every seed; counts those decoded and those rejected.
    /// Prints how many were rejected by each error, so a change that stops mutants from reaching the
    /// shape and offset checks shows in the log.
    private func fuzz(_ seeds: [[UInt8]], format: Format, seed: UInt64, _ check: ([UInt8]) throws -> Void) -> (decoded: Int, failed: Int) {
        var rng = SeededGenerator(state: seed)
        var decoded = 0, failed = 0
        var reasons: [String: Int] = [:]
        for original in seeds {
            for _ in 0..<Self.mutationsPerSeed {
                let mutant = mutate(original, format, &rng)
                do { try check(mutant); decoded += 1 } catch {
                    failed += 1
                    reasons[Mirror(reflecting: error).children.first?.label ?? "\(error)", default: 0] += 1
                }
            }
        }
        print("\(format) rejected by: " + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return (decoded, failed)
    }

    /// Where each format keeps its header, so that a number can be rewritten with the length fixed up
    /// and the mutant reaches the shape and offset checks instead of failing to parse.
    enum Format {
        case npy, safeTensors

        func headerRange(_ bytes: [UInt8]) -> Range<Int>? {
            switch self {
            case .npy:
                guard bytes.count >= 10, bytes[6] == 1 else { return nil }
                let n = Int(bytes[8]) | Int(bytes[9]) << 8
                return 10 + n <= bytes.count ? 10..<(10 + n) : nil
            case .safeTensors:
                guard bytes.count >= 8 else { return nil }
                let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.1) << (8 * UInt64($1.0)) }
                return n <= UInt64(bytes.count - 8) ? 8..<(8 + Int(n)) : nil
            }
        }

        func withHeader(_ header: [UInt8], of bytes: [UInt8], at range: Range<Int>) -> [UInt8] {
            switch self {
            case .npy:
                guard header.count < 65_536 else { return bytes }
                return Array(bytes[0..<8]) + [UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + bytes[range.upperBound...]
            case .safeTensors:
                return ArrayFileBytes.lengthPrefix(UInt64(header.count)) + header + bytes[range.upperBound...]
            }
        }
    }

    /// One to three mutations: flip bytes (mostly in the header), rewrite a number in the header (with
    /// or without fixing the header's length), rewrite the length fields, truncate, or insert bytes.
    private func mutate(_ original: [UInt8], _ format: Format, _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        let headerEnd = min(bytes.count, 160)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !bytes.isEmpty else { break }
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                let i = Int.random(in: 0..<min(bytes.count, headerEnd), using: &rng)
                bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1:
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            case 2:
                bytes = rewriteNumber(bytes, &rng)
            case 3:
                if let range = format.headerRange(bytes) {
                    bytes = format.withHeader(rewriteNumber(Array(bytes[range]), &rng), of: bytes, at: range)
                }
            case 4:
                // The length fields: .npy's at 8..<10 (or 8..<12), safetensors' at 0..<8.
                let i = Int.random(in: 0..<min(bytes.count, 12), using: &rng)
                bytes[i] = [0x00, 0xFF, 0x7F, 0x80, 0x10][Int.random(in: 0..<5, using: &rng)]
            default:
                if Bool.random(using: &rng) {
                    bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
                } else {
                    let i = Int.random(in: 0...bytes.count, using: &rng)
                    bytes.insert(contentsOf: (0..<Int.random(in: 1...9, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
                }
            }
        }
        return bytes
    }

    /// Replaces one run of ASCII digits (with its sign) in the first 4 kB by a hostile number.
    private func rewriteNumber(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var runs: [Range<Int>] = []
        var i = 0
        let end = min(bytes.count, 4096)
        while i < end {
            guard bytes[i] >= 0x30 && bytes[i] <= 0x39 else { i += 1; continue }
            var start = i
            if start > 0 && bytes[start - 1] == UInt8(ascii: "-") { start -= 1 }
            while i < end && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
            runs.append(start..<i)
        }
        guard let run = runs.randomElement(using: &rng), let number = Self.hostileNumbers.randomElement(using: &rng) else { return bytes }
        var out = bytes
        out.replaceSubrange(run, with: Array(number.utf8))
        return out
    }
}
