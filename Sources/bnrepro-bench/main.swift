import Foundation

// bnrepro-bench <what> [options]: throughput benchmarks (never timed tests).
//   engine   training and inference images/s of the ResNets (EngineBenchmark.swift)
let args = Array(CommandLine.arguments.dropFirst())
let what = args.first ?? "engine"
do {
    switch what {
    case "engine": try EngineBenchmark.run(arguments: Array(args.dropFirst()))
    default:
        FileHandle.standardError.write("unknown benchmark '\(what)'; known: engine\n".data(using: .utf8) ?? Data())
        exit(2)
    }
} catch {
    FileHandle.standardError.write("benchmark failed: \(error)\n".data(using: .utf8) ?? Data())
    exit(1)
}
