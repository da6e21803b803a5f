import ArrayFormats
import Foundation
import Pipeline

/// The largest relative difference between two versions of an output when every difference between
/// them is one of numbers (array values, JSON numbers): what a tolerance verdict compares. Nil when some
/// difference is not numeric (a shape, a string, a pixel, a line of text) or not finite.
public enum NumericDifference {
    public static func largestRelative(name: String, cached: Data, recomputed: Data) -> Double? {
        switch (name as NSString).pathExtension.lowercased() {
        case "npy":
            guard let a = try? NPY.decode([UInt8](cached)), let b = try? NPY.decode([UInt8](recomputed)),
                  a.shape == b.shape, a.dtype == b.dtype, let x = try? a.doubleValues(), let y = try? b.doubleValues() else { return nil }
            return finite(ValueDifference.of(x, y))
        case "safetensors":
            guard let a = try? SafeTensors.decode([UInt8](cached)), let b = try? SafeTensors.decode([UInt8](recomputed)),
                  a.metadata == b.metadata, Set(a.tensors.keys) == Set(b.tensors.keys) else { return nil }
            var largest = 0.0
            for (name, x) in a.tensors {
                guard let y = b.tensors[name], x.shape == y.shape, x.dtype == y.dtype,
                      let r = finite(ValueDifference.of(x.doubleValues(), y.doubleValues())) else { return nil }
                largest = max(largest, r)
            }
            return largest
        case "json":
            guard let a = try? JSONParser.parse(cached), let b = try? JSONParser.parse(recomputed) else { return nil }
            var numbers = ValueDifference()
            for change in JSONDifference.changes(a, b) {
                guard let x = change.before?.doubleValue, let y = change.after?.doubleValue else { return nil }
                numbers.add(x, y, at: change.path)
            }
            return finite(numbers)
        default: return nil
        }
    }

    private static func finite(_ d: ValueDifference) -> Double? { d.nonFinite > 0 ? nil : d.largestRelative }
}
