import ArrayFormats
import Foundation
import NN
import Pipeline
import Statistics

/// What can go wrong in an analysis or figure stage beyond bad params: a non-finite number where the
/// science needs a finite one, or an input file that is not what its producer promised.
public enum AnalysisError: Error, CustomStringConvertible {
    case nonFinite(stage: String, what: String)
    case badInput(stage: String, file: String, problem: String)

    public var description: String {
        switch self {
        case let .nonFinite(stage, what): return "stage '\(stage)': \(what) is not finite"
        case let .badInput(stage, file, problem): return "stage '\(stage)': input '\(file)' \(problem)"
        }
    }
}

/// The two networks every comparison at initialisation shows, keyed as in output file names.
public struct NetworkVariant: Sendable {
    public let key: String
    public let normalization: Normalization
    public let title: String

    public static let withBN = NetworkVariant(key: "bn", normalization: .batchNorm, title: "with BN")
    public static let withoutBN = NetworkVariant(key: "nobn", normalization: .none, title: "w/o BN")
    /// Order of outputs and logs; figures choose their own panel order (Fig. 6 puts w/o BN first).
    public static let both = [withBN, withoutBN]
}

/// Reading and writing the array and JSON outputs that analysis stages hand to figure stages.
public enum AnalysisIO {
    public static func writeNPY(_ values: [Float], shape: [Int], to url: URL) throws {
        try NPY.write(try NPYArray(float32: values, shape: shape), to: url)
    }

    public static func writeNPY(_ values: [Double], shape: [Int], to url: URL) throws {
        try NPY.write(try NPYArray(float64: values, shape: shape), to: url)
    }

    public static func writeNPY(_ values: [Int32], shape: [Int], to url: URL) throws {
        try NPY.write(try NPYArray(int32: values, shape: shape), to: url)
    }

    /// Rows of already formatted cells, comma-separated, header first.
    public static func writeCSV(header: [String], rows: [[String]], to url: URL) throws {
        let text = ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    /// A float32 or float64 .npy as Doubles, with its shape.
    public static func readNPY(_ name: String, from input: StageInputs, in context: StageContext) throws -> (values: [Double], shape: [Int]) {
        let array = try NPY.read(from: try input.file(name, for: context.stage))
        switch array.dtype {
        case .float32: return (try array.float32Values().map(Double.init), array.shape)
        case .float64: return (try array.float64Values(), array.shape)
        case .int32: return (try array.int32Values().map(Double.init), array.shape)
        default: throw AnalysisError.badInput(stage: context.stage, file: name, problem: "has dtype \(array.dtype.rawValue), expected a number array")
        }
    }

    /// Throws unless every value is finite: a NaN in a histogram or heat map would silently vanish.
    public static func requireFinite<C: Collection>(_ values: C, _ what: String, in context: StageContext) throws
    where C.Element: BinaryFloatingPoint {
        if values.contains(where: { !$0.isFinite }) { throw AnalysisError.nonFinite(stage: context.stage, what: what) }
    }
}

/// Simple summary statistics of a sample, for metrics files.
public struct SampleSummary: Codable, Equatable, Sendable {
    public let count: Int
    public let mean: Double
    public let std: Double
    public let min: Double
    public let max: Double
    /// Excess kurtosis: 0 for a Gaussian, large for heavy tails (Fig. 2's w/o-BN histogram).
    public let excessKurtosis: Double

    public init<C: Collection>(_ values: C) where C.Element: BinaryFloatingPoint {
        let xs = values.map { Double($0) }
        let n = Double(Swift.max(xs.count, 1))
        let m = xs.reduce(0, +) / n
        var m2 = 0.0, m4 = 0.0
        for x in xs { let d = (x - m) * (x - m); m2 += d; m4 += d * d }
        m2 /= n; m4 /= n
        count = xs.count
        mean = m
        std = m2.squareRoot()
        min = xs.min() ?? 0
        max = xs.max() ?? 0
        excessKurtosis = m2 > 0 ? m4 / (m2 * m2) - 3 : 0
    }

    /// Q3 − Q1 with linear interpolation between order statistics (numpy's default).
    public static func interquartileRange<C: Collection>(_ values: C) -> Double where C.Element: BinaryFloatingPoint {
        let xs = values.map { Double($0) }
        return quantile(xs, 0.75) - quantile(xs, 0.25)
    }
}
