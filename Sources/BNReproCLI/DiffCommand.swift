import ArgumentParser
import Foundation
import Pipeline

struct DiffCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare this cache with another one: which stages' outputs and which claims changed.",
        discussion: """
        For every stage of the pipeline, its up-to-date result in this cache (--cache, "here", after) and in the \
        other one (--other-cache, "there", before): same, differs (the outputs whose bytes differ; for .json the \
        top-level fields, for float .npy the largest absolute difference), only here, only there or in neither. \
        Then every claim whose paper value, our value or verdict changed. Computes nothing and writes to neither \
        cache. Examples:
          bnrepro diff --other-cache ../before/data/cache
          bnrepro diff --profile smoke --other-cache /tmp/cache-before
        """)

    @OptionGroup var options: PipelineOptions
    @Option(name: .customLong("other-cache"), help: ArgumentHelp("The cache to compare with (\"before\").", valueName: "dir"))
    var otherCache: String

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let there = try CacheStore(existing: URL(fileURLWithPath: otherCache))
        let here = try options.existingCacheStore()
        let diff = try CacheDiff(pipeline: pipeline, here: here, there: there)
        print("profile \(pipeline.profile): here \(here.root.path) (after), there \(there.root.path) (before)")
        print(diff.text, terminator: "")
    }
}
