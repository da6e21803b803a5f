// A float32 tensor: a shape and a contiguous row-major buffer (C order, last index fastest).
// Value semantics through Swift's copy-on-write array; hot loops use `withUnsafe…` views.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public var count: Int { data.count }

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public static func normal(_ shape: [Int], rng: Philox, mean: Float = 0, std: Float = 1) -> Tensor {
        Tensor(shape: shape, data: rng.normal(count: shape.reduce(1, *), mean: mean, std: std))
    }

    public static func uniform(_ shape: [Int], rng: Philox, low: Float = 0, high: Float = 1) -> Tensor {
        Tensor(shape: shape, data: rng.uniform(count: shape.reduce(1, *), low: low, high: high))
    }

    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) ≠ tensor rank \(shape.count)")
        var o = 0
        for (i, n) in zip(index, shape) { o = o * n + i }
        return o
    }
}

/// An owned, fixed-address float buffer: what oneDNN memory objects and BLAS calls point into.
/// A class because it owns memory it must free; its address never changes.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        // 64-byte alignment: what AVX-512 kernels and oneDNN prefer.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func copy(from values: [Float], at offset: Int = 0) {
        precondition(offset + values.count <= count, "copy of \(values.count) at \(offset) overruns \(count)")
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { (pointer + offset).update(from: base, count: values.count) }
        }
    }

    public func zero() { pointer.update(repeating: 0, count: count) }
}
