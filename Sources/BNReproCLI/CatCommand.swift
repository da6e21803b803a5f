import ArgumentParser
import ArrayFormats
import Foundation
import Pipeline

struct CatCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Print one cached artifact: JSON and CSV as text, .npy as a summary (dtype, shape, min, max, mean, first values).",
        discussion: "Examples: bnrepro cat decode:classes.json    bnrepro cat 3fa9c2d1e0b4")

    @OptionGroup var options: PipelineOptions
    @Argument(help: "<stage>:<output>, or an object digest (a unique prefix of 8 or more characters).") var artifact: String

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let (digest, name) = try locate(store: store, registry: registry)
        try print(CatCommand.render(store.readObject(digest), name: name))
    }

    /// The object's digest and the output name it was stored under.
    private func locate(store: CacheStore, registry: KindRegistry) throws -> (String, String) {
        if let colon = artifact.lastIndex(of: ":") {
            let stageName = String(artifact[..<colon]), output = String(artifact[artifact.index(after: colon)...])
            let pipeline = try options.resolve(registry)
            guard pipeline.stage(stageName) != nil else {
                _ = try pipeline.select(stageName)
                throw ValidationError("'\(stageName)' is a matrix group; name one stage, e.g. \(try pipeline.select(stageName)[0].name)")
            }
            let state = StatusReport(pipeline: pipeline, store: store).states().first { $0.stage.name == stageName }!.state
            let key: String
            if case .upToDate(let k) = state { key = k }
            else if let last = store.lastKey(ofStage: stageName) {
                FileHandle.standardError.write(Data("note: \(stageName) is not up to date; showing its last successful run\n".utf8))
                key = last
            } else { throw PipelineError.notCached(stage: stageName) }
            guard let record = store.anyRecord(key) else { throw PipelineError.notCached(stage: stageName) }
            guard let ref = record.outputs[output] else {
                throw ValidationError("stage '\(stageName)' has no output '\(output)'; it has: \(record.outputs.keys.sorted().joined(separator: ", "))")
            }
            return (ref.digest, output)
        }
        let prefix = artifact.lowercased()
        guard prefix.count >= 8 else { throw ValidationError("expected <stage>:<output> or a digest prefix of at least 8 characters") }
        let matches = store.allObjects().filter { $0.digest.hasPrefix(prefix) }
        guard matches.count == 1 else {
            throw ValidationError(matches.isEmpty ? "no cached object starts with \(prefix)" : "\(prefix) is ambiguous (\(matches.count) objects)")
        }
        // An object has no name; find one in a record so the format is known.
        let name = store.allRecordKeys().compactMap(store.anyRecord).flatMap { r in r.outputs.filter { $0.value.digest == matches[0].digest }.map(\.key) }.first ?? ""
        return (matches[0].digest, name)
    }

    static func render(_ url: URL, name: String) throws -> String {
        try render(Data(contentsOf: url), name: name)
    }

    static func render(_ data: Data, name: String) throws -> String {
        if name.hasSuffix(".npy") || data.starts(with: [0x93] + Array("NUMPY".utf8)) {
            return try npySummary(NPY.decode([UInt8](data)))
        }
        if name.hasSuffix(".json"), let value = try? JSONParser.parse(data) { return value.prettyText() }
        if let text = String(data: data, encoding: .utf8), !text.contains("\u{0}") { return text }
        return "binary, \(data.count) bytes (\(name.isEmpty ? "unnamed" : name)); not printed"
    }

    static func npySummary(_ array: NPYArray) throws -> String {
        let values: [Double]
        switch array.dtype {
        case .uint8: values = try array.uint8Values().map(Double.init)
        case .int32: values = try array.int32Values().map(Double.init)
        case .float32: values = try array.float32Values().map(Double.init)
        case .float64: values = try array.float64Values()
        }
        var lines = ["dtype \(String(describing: array.dtype)), shape (\(array.shape.map(String.init).joined(separator: ", "))), \(values.count) values"]
        let finite = values.filter(\.isFinite)
        if let lo = finite.min(), let hi = finite.max() {
            let mean = finite.reduce(0, +) / Double(finite.count)
            lines.append(String(format: "min %.6g, max %.6g, mean %.6g", lo, hi, mean))
        }
        if finite.count < values.count { lines.append("\(values.count - finite.count) non-finite values") }
        lines.append("first: " + values.prefix(10).map { String(format: "%.6g", $0) }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
