import AtomicIO
import Foundation

// safetensors reader and writer (huggingface/safetensors format): 8 bytes little-endian header length N,
// N bytes of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"key": "string"}}, then the raw little-endian tensor bytes, offsets relative to the
// end of the header. Tensors are written in name order; the header is padded with spaces to a multiple
// of 8 bytes (as the reference implementation does) so float data is aligned.
// numpy: `safetensors.numpy.load_file`; PyTorch: `safetensors.torch.load_file`.

public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case float32 = "F32"
    case float64 = "F64"
    case int32 = "I32"
    case int64 = "I64"
    case uint8 = "U8"

    public var byteSize: Int {
        switch self {
        case .uint8: return 1
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }
}

public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case truncated(String)
    case malformedHeader(String)
    case headerTooLarge(bytes: UInt64)
    case unsupportedDType(name: String, dtype: String)
    case negativeDimension(name: String, shape: [Int])
    case shapeOverflow(name: String, shape: [Int])
    case badOffsets(name: String, begin: Int, end: Int)
    case offsetsPastEnd(name: String, end: Int, dataBytes: Int)
    case sizeMismatch(name: String, bytes: Int, expected: Int)
    case overlapping(name: String, other: String)
    case missingTensor(String)
    case wrongDType(name: String, expected: SafeTensorsDType, got: SafeTensorsDType)
    case shapeMismatch(name: String, elements: Int, shape: [Int])
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .truncated(let why): return "safetensors file is truncated: \(why)"
        case .malformedHeader(let why): return "safetensors header is malformed: \(why)"
        case .headerTooLarge(let n):
            return "safetensors header is \(n) bytes; a header may have at most \(HeaderLimits.maxHeaderBytes) bytes (1 MB)"
        case .unsupportedDType(let n, let d): return "tensor '\(n)' has dtype \(d); supported: F32, F64, I32, I64, U8"
        case .negativeDimension(let n, let shape): return "tensor '\(n)' has shape \(shape), with a negative dimension"
        case .shapeOverflow(let n, let shape): return "tensor '\(n)' has shape \(shape), with more elements than an Int can count"
        case .badOffsets(let n, let b, let e): return "tensor '\(n)' has data_offsets [\(b), \(e)]; they need 0 ≤ begin ≤ end"
        case .offsetsPastEnd(let n, let e, let d):
            return "tensor '\(n)' ends at byte \(e) of the data, past its end (the data is \(d) bytes)"
        case .sizeMismatch(let n, let b, let e): return "tensor '\(n)' has \(b) bytes of data but its dtype and shape need \(e)"
        case .overlapping(let n, let o): return "tensors '\(o)' and '\(n)' overlap in the data"
        case .missingTensor(let n): return "no tensor named '\(n)' in the safetensors file"
        case .wrongDType(let n, let e, let g): return "tensor '\(n)' holds \(g.rawValue), \(e.rawValue) was expected"
        case .shapeMismatch(let n, let e, let s): return "tensor '\(n)': \(e) elements do not fill shape \(s)"
        case .io(let path, let message): return "\(path): \(message)"
        }
    }
}

public struct SafeTensor: Equatable, Sendable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Raw little-endian bytes, C order.
    public let bytes: [UInt8]

    public init(dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    public init(float32 values: [Float], shape: [Int]) throws {
        guard values.count == (try? HeaderLimits.elementCount(shape).get()) else {
            throw SafeTensorsError.shapeMismatch(name: "?", elements: values.count, shape: shape)
        }
        self.init(dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public init(float64 values: [Double], shape: [Int]) throws {
        guard values.count == (try? HeaderLimits.elementCount(shape).get()) else {
            throw SafeTensorsError.shapeMismatch(name: "?", elements: values.count, shape: shape)
        }
        self.init(dtype: .float64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public func float32Values() throws -> [Float] {
        guard dtype == .float32 else { throw SafeTensorsError.wrongDType(name: "?", expected: .float32, got: dtype) }
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    public func float64Values() throws -> [Double] {
        guard dtype == .float64 else { throw SafeTensorsError.wrongDType(name: "?", expected: .float64, got: dtype) }
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }

    /// Every element as a Double, whatever the dtype (an int64 beyond 2^53 rounds): for summaries.
    public func doubleValues() -> [Double] {
        let size = dtype.byteSize, dtype = self.dtype
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / size)).map { i in
                let o = i * size
                switch dtype {
                case .float32: return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))))
                case .float64: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                case .int32: return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                case .int64: return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
                case .uint8: return Double(raw[o])
                }
            }
        }
    }
}

public struct SafeTensorsFile: Equatable, Sendable {
    public var tensors: [String: SafeTensor]
    public var metadata: [String: String]

    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors; self.metadata = metadata
    }

    public func tensor(_ name: String) throws -> SafeTensor {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(name) }
        return t
    }
}

public enum SafeTensors {
    public static func encode(_ file: SafeTensorsFile) throws -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        let names = file.tensors.keys.sorted()
        for name in names {
            guard let t = file.tensors[name] else { continue }
            guard t.bytes.count == (try? HeaderLimits.byteCount(t.shape, elementSize: t.dtype.byteSize).get()) else {
                throw SafeTensorsError.shapeMismatch(name: name, elements: t.bytes.count / t.dtype.byteSize, shape: t.shape)
            }
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]]
            offset += t.bytes.count
        }
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for name in names { if let t = file.tensors[name] { out.append(contentsOf: t.bytes) } }
        return out
    }

    /// A file from its bytes. Every size in the header is checked before it is used: the header's
    /// length, each shape's product and each tensor's offsets, so a hostile file is an error, never a
    /// trap or a huge allocation.
    public static func decode(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else { throw SafeTensorsError.truncated("\(bytes.count) bytes, fewer than the 8-byte length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(HeaderLimits.maxHeaderBytes) else { throw SafeTensorsError.headerTooLarge(bytes: n) }
        guard n <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError.truncated("header length \(n) exceeds the \(bytes.count - 8) bytes that follow")
        }
        let headerEnd = 8 + Int(n)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) } catch {
            throw SafeTensorsError.malformedHeader("not JSON (\(error.localizedDescription))")
        }
        guard let dict = object as? [String: Any] else { throw SafeTensorsError.malformedHeader("not a JSON object") }
        var file = SafeTensorsFile()
        var extents: [TensorExtent] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let meta = value as? [String: String] else {
                    throw SafeTensorsError.malformedHeader("__metadata__ must map strings to strings")
                }
                file.metadata = meta
                continue
            }
            guard let entry = value as? [String: Any], let d = entry["dtype"] as? String else {
                throw SafeTensorsError.malformedHeader("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let shape = integers(entry["shape"]) else {
                throw SafeTensorsError.malformedHeader("entry '\(name)': shape must be an array of integers")
            }
            guard let offsets = integers(entry["data_offsets"]), offsets.count == 2 else {
                throw SafeTensorsError.malformedHeader("entry '\(name)': data_offsets must be two integers")
            }
            guard let dtype = SafeTensorsDType(rawValue: d) else { throw SafeTensorsError.unsupportedDType(name: name, dtype: d) }
            let extent = try TensorExtent(name: name, shape: shape, dtype: dtype, offsets: offsets, dataBytes: bytes.count - headerEnd)
            extents.append(extent)
            // TensorExtent checked 0 ≤ begin ≤ end ≤ bytes.count − headerEnd, so these sums stay in the file.
            file.tensors[name] = SafeTensor(dtype: dtype, shape: shape, bytes: Array(bytes[(headerEnd + extent.begin)..<(headerEnd + extent.end)]))
        }
        try TensorExtent.checkDisjoint(extents)
        return file
    }

    /// The integers of a JSON array, or nil when it is not one or an element is not an integer that
    /// fits in an Int (1e30, 2.5, "3"). Read from the number's text, so no conversion can trap or round.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let items = value as? [Any] else { return nil }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let number = item as? NSNumber, let n = Int(number.stringValue) else { return nil }
            result.append(n)
        }
        return result
    }

    public static func write(_ file: SafeTensorsFile, to url: URL) throws {
        try AtomicFile.write(try encode(file), to: url)
    }

    /// The file at `url`; every error names its path.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError.io(path: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        do { return try decode(Array(data)) } catch let error as SafeTensorsError {
            throw SafeTensorsError.io(path: url.path, message: error.description)
        }
    }
}
