import ArgumentParser
import Foundation
import Pipeline

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
