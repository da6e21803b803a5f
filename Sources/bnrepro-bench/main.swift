import Foundation

// `bnrepro-bench [pipeline]`: measurements, printed; never a test.
let which = CommandLine.arguments.dropFirst().first ?? "all"
do {
    if which == "all" || which == "pipeline" { try PipelineBenchmark.run() }
} catch {
    FileHandle.standardError.write(Data("bnrepro-bench: \(error)\n".utf8))
    exit(1)
}
