import Foundation

// `bnrepro-bench [all | pipeline | engine [options] | datasets [archive.tar.gz] | loops]`: measurements, printed;
// never a test.
//   pipeline  no-op run over cached stages and hashing throughput (PipelineBenchmark.swift)
//   engine    ResNet training/inference images/s and peak memory (EngineBenchmark.swift)
//   datasets  training-batch preparation images/s on one core (DatasetsBenchmark.swift)
//   loops     the engine's memory-bound loops alone, ms per call (LoopsBenchmark.swift)
let arguments = Array(CommandLine.arguments.dropFirst())
let which = arguments.first ?? "all"
do {
    switch which {
    case "all":
        try PipelineBenchmark.run()
        try DatasetsBenchmark.run(archive: nil)
        try EngineBenchmark.run(arguments: [])
    case "pipeline": try PipelineBenchmark.run()
    case "loops": LoopsBenchmark.run()
    case "engine": try EngineBenchmark.run(arguments: Array(arguments.dropFirst()))
    case "datasets": try DatasetsBenchmark.run(archive: arguments.dropFirst().first)
    default:
        FileHandle.standardError.write(Data("bnrepro-bench: unknown benchmark '\(which)'; known: all, pipeline, engine, datasets, loops\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("bnrepro-bench: \(error)\n".utf8))
    exit(1)
}
