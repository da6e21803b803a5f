// Sizes read from a file's header are hostile until checked: a shape of (2^32, 2^32) or an offset near
// Int.max must become an error, not a trap in `*` or `+`. Every product and sum here reports overflow.

/// Limits and overflow-checked size arithmetic shared by the .npy and safetensors readers.
enum HeaderLimits {
    /// The largest header either reader accepts. Ours are a few hundred bytes (.npy) or tens of
    /// kilobytes (a ResNet-110 checkpoint); a larger one is a broken or hostile file, not data.
    static let maxHeaderBytes = 1 << 20

    /// Why a shape read from a header describes no array.
    enum ShapeProblem: Error, Equatable {
        case negativeDimension
        case overflow
    }

    /// The number of elements of `shape` (1 for a scalar), or why there is none. A negative dimension
    /// is an error even when the product is positive: (-2, -3) is not a 6-element array.
    static func elementCount(_ shape: [Int]) -> Result<Int, ShapeProblem> {
        if shape.contains(where: { $0 < 0 }) { return .failure(.negativeDimension) }
        // An empty array is empty whatever the other dimensions say, even if their product overflows.
        if shape.contains(0) { return .success(0) }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return .failure(.overflow) }
            count = product
        }
        return .success(count)
    }

    /// The bytes `shape` needs at `elementSize` bytes per element, or why that is not a size.
    static func byteCount(_ shape: [Int], elementSize: Int) -> Result<Int, ShapeProblem> {
        elementCount(shape).flatMap { count in
            let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
            return overflow ? .failure(.overflow) : .success(bytes)
        }
    }
}
