// Where one safetensors tensor lies in the data section, checked against its shape and the data's size.
// Offsets are relative to the end of the header, as in the format.

struct TensorExtent {
    let name: String
    let begin: Int
    let end: Int

    /// The extent `offsets` ([begin, end]) describe, or the error that says what is wrong with them:
    /// a shape with a negative dimension or an overflowing product, offsets out of order or past the end
    /// of the data, or a byte count that is not what the dtype and shape need.
    init(name: String, shape: [Int], dtype: SafeTensorsDType, offsets: [Int], dataBytes: Int) throws {
        let needed: Int
        switch HeaderLimits.byteCount(shape, elementSize: dtype.byteSize) {
        case .success(let n): needed = n
        case .failure(.negativeDimension): throw SafeTensorsError.negativeDimension(name: name, shape: shape)
        case .failure(.overflow): throw SafeTensorsError.shapeOverflow(name: name, shape: shape)
        }
        let begin = offsets[0], end = offsets[1]
        guard begin >= 0, begin <= end else { throw SafeTensorsError.badOffsets(name: name, begin: begin, end: end) }
        guard end <= dataBytes else { throw SafeTensorsError.offsetsPastEnd(name: name, end: end, dataBytes: dataBytes) }
        // begin ≤ end, both non-negative: the difference cannot overflow.
        guard end - begin == needed else { throw SafeTensorsError.sizeMismatch(name: name, bytes: end - begin, expected: needed) }
        self.name = name
        self.begin = begin
        self.end = end
    }

    /// Throws when two tensors share a byte. An empty tensor holds no bytes and overlaps nothing.
    /// Sorted by position (then name), so the pair named does not depend on the header's key order.
    static func checkDisjoint(_ extents: [TensorExtent]) throws {
        let filled = extents.filter { $0.begin < $0.end }
            .sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        // Sorted by start, disjoint so far: only the previous extent can reach past the next start.
        guard var reach = filled.first else { return }
        for extent in filled.dropFirst() {
            if extent.begin < reach.end { throw SafeTensorsError.overlapping(name: extent.name, other: reach.name) }
            reach = extent
        }
    }
}
