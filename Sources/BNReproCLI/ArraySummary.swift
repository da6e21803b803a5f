import ArrayFormats
import Foundation

/// What `bnrepro cat` prints for array files: the shape and dtype, and the range and mean of the values
/// (over the finite ones, with a count of the others), not the values themselves.
enum ArraySummary {
    static func npy(_ array: NPYArray) throws -> String {
        let values = try array.doubleValues()
        var lines = ["dtype \(String(describing: array.dtype)), shape \(NPYArray.shapeText(array.shape)), \(values.count) values"]
        lines += statistics(values)
        lines.append("first: " + values.prefix(10).map { String(format: "%.6g", $0) }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    /// The metadata (sorted by key), then one line per tensor (sorted by name).
    static func safeTensors(_ file: SafeTensorsFile) -> String {
        var lines = [file.metadata.isEmpty ? "metadata: none" : "metadata:"]
        for (key, value) in file.metadata.sorted(by: { $0.key < $1.key }) { lines.append("  \(key): \(value)") }
        lines.append(file.tensors.isEmpty ? "tensors: none" : "tensors:")
        for (name, tensor) in file.tensors.sorted(by: { $0.key < $1.key }) {
            let values = tensor.doubleValues()
            let stats = statistics(values).joined(separator: "; ")
            lines.append("  \(name)  \(tensor.dtype.rawValue)  shape \(NPYArray.shapeText(tensor.shape))  \(values.count) values"
                         + (stats.isEmpty ? "" : "  \(stats)"))
        }
        return lines.joined(separator: "\n")
    }


    /// "min …, max …, mean …" over the finite values, and how many are not finite, if any.
    static func statistics(_ values: [Double]) -> [String] {
        var lines: [String] = []
        let finite = values.filter(\.isFinite)
        if let lo = finite.min(), let hi = finite.max() {
            let mean = finite.reduce(0, +) / Double(finite.count)
            lines.append(String(format: "min %.6g, max %.6g, mean %.6g", lo, hi, mean))
        }
        if finite.count < values.count { lines.append("\(values.count - finite.count) non-finite values") }
        return lines
    }
}
