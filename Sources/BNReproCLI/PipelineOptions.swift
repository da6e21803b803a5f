import ArgumentParser
import Foundation
import Pipeline

/// Options every pipeline-reading subcommand shares.
struct PipelineOptions: ParsableArguments {
    @Option(name: .long, help: "The pipeline file.")
    var pipeline: String = "pipeline.json"

    @Option(name: .long, help: "The cache directory (default: $BNREPRO_CACHE, else data/cache beside the pipeline file).")
    var cache: String?

    @Option(name: .long, help: "The profile whose overrides apply (default: the pipeline's defaultProfile).")
    var profile: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a value by dotted path, e.g. train.params.epochs=2.", valueName: "path=value"))
    var assignments: [String] = []

    var pipelineURL: URL { URL(fileURLWithPath: pipeline).standardizedFileURL }
    var projectDirectory: URL { pipelineURL.deletingLastPathComponent() }

    var cacheURL: URL {
        if let cache { return URL(fileURLWithPath: cache) }
        if let env = ProcessInfo.processInfo.environment["BNREPRO_CACHE"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return projectDirectory.appendingPathComponent("data/cache")
    }

    func cacheStore() throws -> CacheStore { try CacheStore(root: cacheURL) }

    /// The same cache for a command that must not write to it: an error if it is not a cache yet.
    func existingCacheStore() throws -> CacheStore { try CacheStore(existing: cacheURL) }

    func document() throws -> PipelineDocument { try PipelineDocument.load(pipelineURL) }

    /// The pipeline file (or `document`, e.g. the file at another revision) with the profile and overrides.
    func resolve(_ registry: KindRegistry, document: PipelineDocument? = nil) throws -> ResolvedPipeline {
        let overrides = try assignments.map(Overrides.parseAssignment)
        return try ResolvedPipeline(document: try document ?? self.document(), profile: profile, overrides: overrides, registry: registry)
    }

    /// The pipeline under every profile it declares: what `gc` keeps.
    func resolveAllProfiles(_ registry: KindRegistry) throws -> [ResolvedPipeline] {
        let doc = try document()
        let names = doc.profileNames.isEmpty ? [doc.defaultProfile] : doc.profileNames
        return try names.map { try ResolvedPipeline(document: doc, profile: $0, registry: registry) }
    }
}
