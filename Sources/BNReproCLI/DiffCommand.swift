import ArgumentParser
import Foundation
import Pipeline

struct DiffCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare results: this cache with another one, or the current pipeline with the one at a git revision.",
        discussion: """
        For every stage, its up-to-date result here (--cache and the current pipeline file, "after") and there \
        ("before"): with --other-cache, the same pipeline in another cache; with a revision, the pipeline file as \
        committed at that revision, resolved with the same profile and --set values, in this cache. Each stage is \
        same, differs (the outputs whose bytes differ, and what differs inside them as `audit` says it: arrays by \
        value, JSON by field, figures by pixel, text by line), only here, only there or in neither. Then every claim whose paper value, our value \
        or verdict changed. Computes nothing and writes to no cache. Examples:
          bnrepro diff --other-cache ../before/data/cache
          bnrepro diff HEAD~1
        """)

    @OptionGroup var options: PipelineOptions
    @Option(name: .customLong("other-cache"), help: ArgumentHelp("The cache to compare with (\"before\").", valueName: "dir"))
    var otherCache: String?
    @Argument(help: "A git revision: compare with the results recorded for the pipeline file as it was there.")
    var revision: String?

    func validate() throws {
        guard (otherCache == nil) != (revision == nil) else {
            throw ValidationError("give either --other-cache DIR or a revision, not both and not neither")
        }
    }

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let here = try options.existingCacheStore()
        if let otherCache {
            let there = try CacheStore(existing: URL(fileURLWithPath: otherCache))
            let diff = try CacheDiff(pipeline: pipeline, here: here, there: there)
            print("profile \(pipeline.profile): here \(here.root.path) (after), there \(there.root.path) (before)")
            print(diff.text, terminator: "")
            return
        }
        guard let rev = revision else { return }  // validate() allows only one of the two
        guard let data = GitInfo.contents(of: options.pipelineURL, at: rev) else { throw NoPipelineAtRevision(file: options.pipeline, revision: rev) }
        let then = try options.resolve(registry, document: PipelineDocument.parse(data, file: "\(options.pipeline)@\(rev)",
                                                                                     directory: options.projectDirectory))
        let diff = try CacheDiff(here: (pipeline, here), there: (then, here))
        print("profile \(pipeline.profile): \(options.pipeline) now (after) vs at \(rev) (before), both in \(here.root.path)")
        print(diff.text, terminator: "")
    }
}

struct NoPipelineAtRevision: Error, CustomStringConvertible {
    let file: String, revision: String
    var description: String {
        "cannot read \(file) at revision '\(revision)': no such revision, not a git repository, or the file is not committed there"
    }
}
