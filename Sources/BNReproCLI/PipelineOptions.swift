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

    func cacheStore() throws -> CacheStore {
        if let cache { return try CacheStore(root: URL(fileURLWithPath: cache)) }
        if let env = ProcessInfo.processInfo.environment["BNREPRO_CACHE"], !env.isEmpty {
            return try CacheStore(root: URL(fileURLWithPath: env))
        }
        return try CacheStore(root: projectDirectory.appendingPathComponent("data/cache"))
    }

    func document() throws -> PipelineDocument { try PipelineDocument.load(pipelineURL) }

    func resolve(_ registry: KindRegistry) throws -> ResolvedPipeline {
        let overrides = try assignments.map(Overrides.parseAssignment)
        return try ResolvedPipeline(document: try document(), profile: profile, overrides: overrides, registry: registry)
    }

    /// The pipeline under every profile it declares: what `gc` keeps.
    func resolveAllProfiles(_ registry: KindRegistry) throws -> [ResolvedPipeline] {
        let doc = try document()
        let names = doc.profileNames.isEmpty ? [doc.defaultProfile] : doc.profileNames
        return try names.map { try ResolvedPipeline(document: doc, profile: $0, registry: registry) }
    }
}

enum Format {
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func age(_ date: Date) -> String {
        let s = Date().timeIntervalSince(date)
        if s < 90 { return "\(Int(s))s ago" }
        if s < 5400 { return "\(Int(s / 60))m ago" }
        if s < 129600 { return "\(Int(s / 3600))h ago" }
        return "\(Int(s / 86400))d ago"
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// The path of the running binary, which `local` runs again as `exec` for each stage.
enum SelfExecutable {
    static var url: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }
}
