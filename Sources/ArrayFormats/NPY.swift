import AtomicIO
import Foundation

// .npy reader and writer (NPY format 1.0, and 2.0/3.0 on read), for the element types the pipeline
// stores: uint8, int32, float32, float64, little-endian, C order. NumPy loads what this writes.
// Spec: numpy/lib/format.py — magic "\x93NUMPY", version, header length, a Python dict literal
// padded with spaces and ended by "\n" so that the data starts at a multiple of 64 bytes.

/// Element type of an .npy array, named by its NumPy `descr` string.
public enum NPYDType: String, Sendable, CaseIterable {
    case uint8 = "|u1"
    case int32 = "<i4"
    case float32 = "<f4"
    case float64 = "<f8"

    public var byteSize: Int {
        switch self {
        case .uint8: return 1
        case .int32, .float32: return 4
        case .float64: return 8
        }
    }

    /// Accepts the spellings NumPy writes for these types on a little-endian machine.
    init?(descr: String) {
        switch descr {
        case "|u1", "<u1", "u1", "=u1", "B": self = .uint8
        case "<i4", "=i4": self = .int32
        case "<f4", "=f4": self = .float32
        case "<f8", "=f8": self = .float64
        default: return nil
        }
    }
}

public enum NPYError: Error, CustomStringConvertible, Equatable {
    case notNPY(String)
    case unsupportedVersion(major: UInt8, minor: UInt8)
    case malformedHeader(String)
    case headerTooLarge(bytes: Int)
    case negativeDimension(shape: [Int])
    case shapeOverflow(shape: [Int])
    case unsupportedDType(String)
    case fortranOrder
    case sizeMismatch(expectedBytes: Int, gotBytes: Int)
    case shapeMismatch(elements: Int, shape: [Int])
    case wrongDType(expected: NPYDType, got: NPYDType)
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .notNPY(let why): return "not an .npy file: \(why)"
        case .unsupportedVersion(let major, let minor):
            return "unsupported .npy format version \(major).\(minor) (this reader knows 1.0, 2.0 and 3.0)"
        case .malformedHeader(let why): return ".npy header is malformed: \(why)"
        case .headerTooLarge(let n):
            return ".npy header is \(n) bytes; a header may have at most \(HeaderLimits.maxHeaderBytes) bytes (1 MB)"
        case .negativeDimension(let shape): return ".npy shape \(shape) has a negative dimension"
        case .shapeOverflow(let shape): return ".npy shape \(shape) has more elements than an Int can count"
        case .unsupportedDType(let d):
            return ".npy dtype '\(d)' is not supported (use uint8, int32, float32 or float64, little-endian)"
        case .fortranOrder: return ".npy array is in Fortran order; only C order is supported (save with np.ascontiguousarray)"
        case .sizeMismatch(let e, let g): return ".npy data is \(g) bytes but the header's shape and dtype need \(e)"
        case .shapeMismatch(let n, let shape): return "\(n) elements do not fill shape \(shape)"
        case .wrongDType(let e, let g): return ".npy array holds \(g) but \(e) was expected"
        case .io(let path, let message): return "\(path): \(message)"
        }
    }
}

/// An n-dimensional array as stored in .npy: the shape, the element type and the raw little-endian bytes.
public struct NPYArray: Equatable, Sendable {
    public let shape: [Int]
    public let dtype: NPYDType
    /// Little-endian element bytes in C (row-major) order.
    public let bytes: [UInt8]

    /// The element count; the initialiser checked that the shape's product is exactly this.
    public var count: Int { bytes.count / dtype.byteSize }

    public init(shape: [Int], dtype: NPYDType, bytes: [UInt8]) throws {
        let expected = try NPYArray.checked(HeaderLimits.byteCount(shape, elementSize: dtype.byteSize), shape)
        guard expected == bytes.count else { throw NPYError.sizeMismatch(expectedBytes: expected, gotBytes: bytes.count) }
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
    }

    public init(uint8 values: [UInt8], shape: [Int]) throws {
        guard try NPYArray.elementCount(shape) == values.count else { throw NPYError.shapeMismatch(elements: values.count, shape: shape) }
        try self.init(shape: shape, dtype: .uint8, bytes: values)
    }

    public init(int32 values: [Int32], shape: [Int]) throws {
        guard try NPYArray.elementCount(shape) == values.count else { throw NPYError.shapeMismatch(elements: values.count, shape: shape) }
        try self.init(shape: shape, dtype: .int32, bytes: NPYArray.littleEndianBytes(values.map { $0.littleEndian }))
    }

    public init(float32 values: [Float], shape: [Int]) throws {
        guard try NPYArray.elementCount(shape) == values.count else { throw NPYError.shapeMismatch(elements: values.count, shape: shape) }
        try self.init(shape: shape, dtype: .float32,
                      bytes: NPYArray.littleEndianBytes(values.map { $0.bitPattern.littleEndian }))
    }

    public init(float64 values: [Double], shape: [Int]) throws {
        guard try NPYArray.elementCount(shape) == values.count else { throw NPYError.shapeMismatch(elements: values.count, shape: shape) }
        try self.init(shape: shape, dtype: .float64,
                      bytes: NPYArray.littleEndianBytes(values.map { $0.bitPattern.littleEndian }))
    }

    /// The element count of a shape from a header or a caller, as an error when it has none.
    static func elementCount(_ shape: [Int]) throws -> Int {
        try checked(HeaderLimits.elementCount(shape), shape)
    }

    private static func checked(_ result: Result<Int, HeaderLimits.ShapeProblem>, _ shape: [Int]) throws -> Int {
        switch result {
        case .success(let n): return n
        case .failure(.negativeDimension): throw NPYError.negativeDimension(shape: shape)
        case .failure(.overflow): throw NPYError.shapeOverflow(shape: shape)
        }
    }

    public func uint8Values() throws -> [UInt8] {
        guard dtype == .uint8 else { throw NPYError.wrongDType(expected: .uint8, got: dtype) }
        return bytes
    }

    public func int32Values() throws -> [Int32] {
        guard dtype == .int32 else { throw NPYError.wrongDType(expected: .int32, got: dtype) }
        return decode(UInt32.self).map { Int32(bitPattern: UInt32(littleEndian: $0)) }
    }

    public func float32Values() throws -> [Float] {
        guard dtype == .float32 else { throw NPYError.wrongDType(expected: .float32, got: dtype) }
        return decode(UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) }
    }

    public func float64Values() throws -> [Double] {
        guard dtype == .float64 else { throw NPYError.wrongDType(expected: .float64, got: dtype) }
        return decode(UInt64.self).map { Double(bitPattern: UInt64(littleEndian: $0)) }
    }

    /// Every element as a Double, whatever the dtype (exact for all of them): what readers that only
    /// compare or summarise values (`cat`, `audit`, `diff`) need.
    public func doubleValues() throws -> [Double] {
        switch dtype {
        case .uint8: return try uint8Values().map(Double.init)
        case .int32: return try int32Values().map(Double.init)
        case .float32: return try float32Values().map(Double.init)
        case .float64: return try float64Values()
        }
    }

    /// "(2, 3)": the shape as numpy prints it.
    public static func shapeText(_ shape: [Int]) -> String { "(" + shape.map(String.init).joined(separator: ", ") + ")" }

    private func decode<T: FixedWidthInteger>(_: T.Type) -> [T] {
        let n = bytes.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                // memcpy, because the byte array need not be aligned for T.
                if n > 0, let base = buffer.baseAddress, let src = raw.baseAddress {
                    memcpy(base, src, n * MemoryLayout<T>.size)
                }
            }
            initialized = n
        }
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { [UInt8]($0) }
    }
}

/// Encoding, decoding and atomic file I/O for `NPYArray`.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    static let alignment = 64

    /// The complete .npy file for `array`: version 1.0 unless the header needs more than 65,535 bytes.
    public static func encode(_ array: NPYArray) -> [UInt8] {
        header(for: array) + array.bytes
    }

    /// Everything before the data: magic, version, length and the padded header dict.
    static func header(for array: NPYArray) -> [UInt8] {
        let shapeText: String
        switch array.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(array.shape[0]),)"
        default: shapeText = "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '\(array.dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        var header = Array(dict.utf8)
        var preamble = 10  // magic, 2 version bytes, uint16 length
        if header.count + 1 + preamble > 65_535 { preamble = 12 }
        // Pad with spaces so that preamble + header (ending in "\n") is a multiple of 64.
        let total = preamble + header.count + 1
        let padded = (total + alignment - 1) / alignment * alignment
        header += [UInt8](repeating: 0x20, count: padded - total)
        header.append(0x0A)

        var out = magic
        out.reserveCapacity(padded)
        if preamble == 10 {
            out += [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        } else {
            let n = UInt32(header.count)
            out += [2, 0, UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
        }
        out += header
        return out
    }

    public static func decode(_ file: [UInt8]) throws -> NPYArray {
        guard file.count >= 10, Array(file[0..<6]) == magic else {
            throw NPYError.notNPY("missing the \\x93NUMPY magic")
        }
        let major = file[6], minor = file[7]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(file[8]) | Int(file[9]) << 8
            headerStart = 10
        case 2, 3:
            guard file.count >= 12 else { throw NPYError.notNPY("file ends inside the preamble") }
            headerLength = Int(file[8]) | Int(file[9]) << 8 | Int(file[10]) << 16 | Int(file[11]) << 24
            headerStart = 12
        default:
            throw NPYError.unsupportedVersion(major: major, minor: minor)
        }
        // Checked before the header is sliced or parsed: a 4 GB length must not become a 4 GB string.
        guard headerLength <= HeaderLimits.maxHeaderBytes else { throw NPYError.headerTooLarge(bytes: headerLength) }
        guard file.count >= headerStart + headerLength else {
            throw NPYError.malformedHeader("header claims \(headerLength) bytes but the file ends first")
        }
        guard let text = String(bytes: file[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw NPYError.malformedHeader("header is not text")
        }
        var parser = HeaderParser(text)
        let header = try parser.parse()
        guard !header.fortranOrder else { throw NPYError.fortranOrder }
        guard let dtype = NPYDType(descr: header.descr) else { throw NPYError.unsupportedDType(header.descr) }
        let dataStart = headerStart + headerLength
        return try NPYArray(shape: header.shape, dtype: dtype, bytes: Array(file[dataStart...]))
    }

    /// Writes atomically: a temporary file in the same directory, fsync, then rename, so that a reader
    /// (or a killed run) never sees half an array under the final name.
    public static func write(_ array: NPYArray, to url: URL) throws {
        // Header and data written one after the other: no copy of a large array.
        try AtomicFile.write(chunks: [header(for: array), array.bytes], to: url)
    }

    public static func read(from url: URL) throws -> NPYArray {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError.io(path: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        do { return try decode([UInt8](data)) } catch let error as NPYError {
            throw NPYError.io(path: url.path, message: error.description)
        }
    }
}

/// Parses the Python dict literal of an .npy header: exactly the keys descr, fortran_order and shape.
private struct HeaderParser {
    struct Header { var descr: String; var fortranOrder: Bool; var shape: [Int] }

    private let chars: [Character]
    private var i = 0

    init(_ text: String) { chars = Array(text) }

    mutating func parse() throws -> Header {
        var descr: String?, fortran: Bool?, shape: [Int]?
        try expect("{")
        while true {
            skipSpace()
            if peek() == "}" { i += 1; break }
            let key = try quoted()
            try expect(":")
            skipSpace()
            switch key {
            case "descr": descr = try quoted()
            case "fortran_order": fortran = try bool()
            case "shape": shape = try tuple()
            default: throw NPYError.malformedHeader("unexpected key '\(key)'")
            }
            skipSpace()
            if peek() == "," { i += 1 } else { try expect("}"); break }
        }
        guard let d = descr, let f = fortran, let s = shape else {
            throw NPYError.malformedHeader("needs 'descr', 'fortran_order' and 'shape'")
        }
        return Header(descr: d, fortranOrder: f, shape: s)
    }

    private func peek() -> Character? { i < chars.count ? chars[i] : nil }

    private mutating func skipSpace() { while let c = peek(), c == " " || c == "\n" || c == "\t" { i += 1 } }

    private mutating func expect(_ c: Character) throws {
        skipSpace()
        guard peek() == c else { throw NPYError.malformedHeader("expected '\(c)' at offset \(i)") }
        i += 1
    }

    private mutating func quoted() throws -> String {
        skipSpace()
        guard let q = peek(), q == "'" || q == "\"" else { throw NPYError.malformedHeader("expected a string at offset \(i)") }
        i += 1
        var s = ""
        while let c = peek(), c != q { s.append(c); i += 1 }
        guard peek() == q else { throw NPYError.malformedHeader("unterminated string") }
        i += 1
        return s
    }

    private mutating func bool() throws -> Bool {
        if chars[i...].starts(with: "True") { i += 4; return true }
        if chars[i...].starts(with: "False") { i += 5; return false }
        throw NPYError.malformedHeader("fortran_order must be True or False")
    }

    private mutating func tuple() throws -> [Int] {
        try expect("(")
        var dims: [Int] = []
        while true {
            skipSpace()
            if peek() == ")" { i += 1; return dims }
            var digits = ""
            // A sign is read so that a negative dimension gets its own error rather than "not an integer".
            if peek() == "-" { digits.append("-"); i += 1 }
            while let c = peek(), c.isASCII, c.isNumber { digits.append(c); i += 1 }
            // NumPy may write "10L" on Python 2.
            if peek() == "L" { i += 1 }
            guard !digits.isEmpty, digits != "-" else { throw NPYError.malformedHeader("shape has a non-integer dimension") }
            guard let n = Int(digits) else { throw NPYError.malformedHeader("shape dimension \(digits) does not fit in an Int") }
            dims.append(n)
            skipSpace()
            if peek() == "," { i += 1 }
        }
    }
}
