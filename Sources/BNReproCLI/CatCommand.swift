import ArgumentParser
import ArrayFormats
import Foundation
import Pipeline

struct CatCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Print one cached artifact: JSON and CSV as text, .npy and .safetensors as summaries (dtype, shape, min, max, mean).",
        discussion: "Examples: bnrepro cat decode:classes.json    bnrepro cat train@bn,lr=0.1,seed=0:final.safetensors    bnrepro cat 3fa9c2d1e0b4")

    @OptionGroup var options: PipelineOptions
    @Argument(help: "<stage>:<output>, or an object digest (a unique prefix of 8 or more characters).") var artifact: String

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let (digest, name) = try locate(store: store, registry: registry)
        try print(CatCommand.render(store.readObject(digest), name: name, path: store.objectPath(digest).path))
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
            guard let state = StatusReport(pipeline: pipeline, store: store).states().first(where: { $0.stage.name == stageName })?.state
            else { throw PipelineError.notCached(stage: stageName) }
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
        try render(Data(contentsOf: url), name: name, path: url.path)
    }

    /// `path` names the bytes in errors (the object's path in the store, which is read without following
    /// symlinks).
    static func render(_ data: Data, name: String, path: String) throws -> String {
        do {
            if name.hasSuffix(".safetensors") { return ArraySummary.safeTensors(try SafeTensors.decode([UInt8](data))) }
            if name.hasSuffix(".npy") || data.starts(with: [0x93] + Array("NUMPY".utf8)) {
                return try ArraySummary.npy(NPY.decode([UInt8](data)))
            }
        } catch let error as SafeTensorsError {
            throw SafeTensorsError.io(path: path, message: error.description)
        } catch let error as NPYError {
            throw NPYError.io(path: path, message: error.description)
        }
        if name.hasSuffix(".json"), let value = try? JSONParser.parse(data) { return value.prettyText() }
        if let text = String(data: data, encoding: .utf8), !text.contains("\u{0}") { return text }
        return "binary, \(data.count) bytes (\(name.isEmpty ? "unnamed" : name)); not printed"
    }
}
