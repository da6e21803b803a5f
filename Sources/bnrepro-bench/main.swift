import Foundation

// `bnrepro-bench [pipeline|datasets [archive.tar.gz]]`: measurements, printed; never a test.
let which = CommandLine.arguments.dropFirst().first ?? "all"
do {
    if which == "all" || which == "pipeline" { try PipelineBenchmark.run() }
    if which == "all" || which == "datasets" { try DatasetsBenchmark.run(archive: CommandLine.arguments.dropFirst(2).first) }
} catch {
    FileHandle.standardError.write(Data("bnrepro-bench: \(error)\n".utf8))
    exit(1)
}
