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
    case unsupportedDType(name: String, dtype: String)
    case badOffsets(name: String)
    case missingTensor(String)
    case wrongDType(name: String, expected: SafeTensorsDType, got: SafeTensorsDType)
    case shapeMismatch(name: String, elements: Int, shape: [Int])

    public var description: String {
        switch self {
        case .truncated(let why): return "safetensors file is truncated: \(why)"
        case .malformedHeader(let why): return "safetensors header is malformed: \(why)"
        case .unsupportedDType(let n, let d): return "tensor '\(n)' has dtype \(d); supported: F32, F64, I32, I64, U8"
        case .badOffsets(let n): return "tensor '\(n)' has data_offsets outside the file or not matching its shape"
        case .missingTensor(let n): return "no tensor named '\(n)' in the safetensors file"
        case .wrongDType(let n, let e, let g): return "tensor '\(n)' holds \(g.rawValue), \(e.rawValue) was expected"
        case .shapeMismatch(let n, let e, let s): return "tensor '\(n)': \(e) elements do not fill shape \(s)"
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
        guard values.count == shape.reduce(1, *) else {
            throw SafeTensorsError.shapeMismatch(name: "?", elements: values.count, shape: shape)
        }
        self.init(dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public init(float64 values: [Double], shape: [Int]) throws {
        guard values.count == shape.reduce(1, *) else {
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
            guard t.bytes.count == t.shape.reduce(1, *) * t.dtype.byteSize else {
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

    public static func decode(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else { throw SafeTensorsError.truncated("\(bytes.count) bytes, fewer than the 8-byte length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
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
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let meta = value as? [String: String] else {
                    throw SafeTensorsError.malformedHeader("__metadata__ must map strings to strings")
                }
                file.metadata = meta
                continue
            }
            guard let entry = value as? [String: Any], let d = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [NSNumber])?.map({ $0.intValue }),
                  let offs = (entry["data_offsets"] as? [NSNumber])?.map({ $0.intValue }), offs.count == 2 else {
                throw SafeTensorsError.malformedHeader("entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = SafeTensorsDType(rawValue: d) else { throw SafeTensorsError.unsupportedDType(name: name, dtype: d) }
            let begin = headerEnd + offs[0], end = headerEnd + offs[1]
            guard offs[0] >= 0, begin <= end, end <= bytes.count,
                  end - begin == shape.reduce(1, *) * dtype.byteSize else { throw SafeTensorsError.badOffsets(name: name) }
            file.tensors[name] = SafeTensor(dtype: dtype, shape: shape, bytes: Array(bytes[begin..<end]))
        }
        return file
    }

    public static func write(_ file: SafeTensorsFile, to url: URL) throws {
        try AtomicFile.write(try encode(file), to: url)
    }

    public static func read(from url: URL) throws -> SafeTensorsFile {
        try decode(Array(try Data(contentsOf: url)))
    }
}
