import ArrayFormats
import Foundation
import Pipeline

/// What differs between two array files: shape, dtype, then the values (largest absolute and relative
/// difference). For safetensors also the metadata and the tensor set, tensor by tensor, worst first.
public enum ArrayDifference {
    public static func npy(before: Data, after: Data) -> [String] {
        let old: NPYArray, new: NPYArray
        do { old = try NPY.decode([UInt8](before)); new = try NPY.decode([UInt8](after)) } catch {
            return ["not a readable .npy on both sides: \(error)"]
        }
        if old.shape != new.shape { return ["shape \(NPYArray.shapeText(old.shape)) → \(NPYArray.shapeText(new.shape))"] }
        if old.dtype != new.dtype { return ["dtype \(old.dtype.rawValue) → \(new.dtype.rawValue)"] }
        do { return [ValueDifference.of(try old.doubleValues(), try new.doubleValues()).text] } catch {
            return ["values not readable: \(error)"]
        }
    }

    public static func safetensors(before: Data, after: Data, limit: Int = 8) -> [String] {
        let old: SafeTensorsFile, new: SafeTensorsFile
        do { old = try SafeTensors.decode([UInt8](before)); new = try SafeTensors.decode([UInt8](after)) } catch {
            return ["not a readable .safetensors on both sides: \(error)"]
        }
        var lines: [String] = []
        for key in Set(old.metadata.keys).union(new.metadata.keys).sorted() where old.metadata[key] != new.metadata[key] {
            lines.append(metadataChange(key, old.metadata[key], new.metadata[key]))
        }
        var tensors: [(name: String, difference: ValueDifference)] = []
        for name in Set(old.tensors.keys).union(new.tensors.keys).sorted() {
            switch (old.tensors[name], new.tensors[name]) {
            case (let a?, let b?):
                if a == b { continue }
                if a.shape != b.shape { lines.append("tensor '\(name)': shape \(NPYArray.shapeText(a.shape)) → \(NPYArray.shapeText(b.shape))") }
                else if a.dtype != b.dtype { lines.append("tensor '\(name)': dtype \(a.dtype.rawValue) → \(b.dtype.rawValue)") }
                else { tensors.append((name, ValueDifference.of(a.doubleValues(), b.doubleValues()))) }
            case (_?, nil): lines.append("tensor '\(name)' only in the cached file")
            case (nil, _?): lines.append("tensor '\(name)' only in the recomputed file")
            case (nil, nil): break
            }
        }
        tensors.sort { ($0.difference.largestAbsolute, $1.name) > ($1.difference.largestAbsolute, $0.name) }
        lines += tensors.prefix(limit).map { "tensor '\($0.name)': \($0.difference.text)" }
        if tensors.count > limit { lines.append("… and \(tensors.count - limit) more tensors differ") }
        return lines.isEmpty ? ["same tensors and metadata, laid out differently"] : lines
    }

    /// A metadata value that is JSON (a checkpoint's config) is compared as JSON: keys written in another
    /// order are named as such, other changes by field.
    static func metadataChange(_ key: String, _ before: String?, _ after: String?) -> String {
        if let before, let after, let a = try? JSONParser.parse(before), let b = try? JSONParser.parse(after),
           case .object = a, case .object = b {
            if a == b { return "metadata '\(key)': the same JSON with its keys in another order" }
            return "metadata '\(key)': " + JSONDifference.describe(before: a, after: b, limit: 4).joined(separator: "; ")
        }
        func shown(_ s: String?) -> String { s.map { clipped($0, 48) } ?? "absent" }
        return "metadata '\(key)': \(shown(before)) → \(shown(after))"
    }

}
