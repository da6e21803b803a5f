import ArgumentParser
import Foundation
import Pipeline

struct StatusCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Every stage: up to date, never run, or stale and why.")

    @OptionGroup var options: PipelineOptions

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let report = StatusReport(pipeline: pipeline, store: try options.cacheStore())
        print("profile: \(pipeline.profile)")
        var counts = (fresh: 0, never: 0, stale: 0)
        for (stage, state) in report.states() {
            switch state {
            case .upToDate(let key):
                counts.fresh += 1
                print("  up to date  \(stage.name)  [\(key.prefix(12))]")
            case .neverRun:
                counts.never += 1
                print("  never run   \(stage.name)")
            case .stale(let reasons):
                counts.stale += 1
                print("  stale       \(stage.name)")
                for reason in reasons { print("                - \(reason)") }
            }
        }
        print("\(counts.fresh) up to date, \(counts.stale) stale, \(counts.never) never run")
    }
}

struct DagCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "dag",
        abstract: "The stages and their dependencies, as text or Graphviz (--dot).")

    @OptionGroup var options: PipelineOptions
    @Flag(help: "Print Graphviz dot.") var dot = false

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        if dot {
            print("digraph pipeline {\n  rankdir=LR;\n  node [shape=box, fontname=\"DejaVu Sans\"];")
            for stage in pipeline.stages {
                print("  \"\(stage.name)\" [label=\"\(stage.name)\\n(\(stage.kind.name))\"];")
                for dep in stage.deps { print("  \"\(dep)\" -> \"\(stage.name)\";") }
            }
            print("}")
            return
        }
        for stage in pipeline.stages {
            let deps = stage.deps.isEmpty ? "" : "  ← " + stage.deps.joined(separator: ", ")
            print("\(stage.name)  (\(stage.kind.name) v\(stage.version))\(deps)")
        }
    }
}
