import Foundation
import Pipeline

/// The pipeline's two numbers (DESIGN.md §6): a no-op `run` over 200 cached stages, and hashing MB/s.
enum PipelineBenchmark {
    static func run() throws {
        print("== pipeline ==")
        try noOpRun(stages: 200)
        try hashing(megabytes: 512)
    }

    static func noOpRun(stages: Int) throws {
        let cli = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bnrepro-testkinds")
        guard FileManager.default.isExecutableFile(atPath: cli.path) else {
            print("no-op run: skipped, \(cli.path) not built (swift build -c release builds it)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // 199 writers feeding one concatenation: a wide DAG with a long dependency list.
        var entries = (0..<(stages - 1)).map { #"{"name": "w\#($0)", "kind": "test-write", "params": {"text": "\#($0)"}}"# }
        entries.append(#"{"name": "all", "kind": "test-concat", "deps": [\#((0..<(stages - 1)).map { "\"w\($0)\"" }.joined(separator: ","))]}"#)
        try Data("{\"stages\": [\(entries.joined(separator: ",\n"))]}".utf8).write(to: dir.appendingPathComponent("pipeline.json"))
        let fill = try time(cli, ["run", "-j", "2"], in: dir)
        var runs: [Double] = []
        for _ in 0..<5 { runs.append(try time(cli, ["run"], in: dir)) }
        print(String(format: "first run of %d stages: %.1f s (%.0f ms per stage, each a child process)", stages, fill, fill * 1000 / Double(stages)))
        print(String(format: "no-op run over %d cached stages: median %.3f s, best %.3f s (target < 1 s)",
                     stages, runs.sorted()[runs.count / 2], runs.min() ?? .nan))
    }

    static func hashing(megabytes: Int) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-bench-hash-\(getpid())")
        defer { try? FileManager.default.removeItem(at: url) }
        var generator = SystemRandomNumberGenerator()
        let chunk = Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        for _ in 0..<megabytes { handle.write(chunk) }
        try handle.close()
        _ = try Digest.sha256(file: url)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = Date()
            _ = try Digest.sha256(file: url)
            best = min(best, Date().timeIntervalSince(start))
        }
        print(String(format: "SHA-256 of a %d MB file (page cache): %.0f MB/s (target ≥ 500)", megabytes, Double(megabytes) * 1.048576 / best))
    }

    private static func time(_ cli: URL, _ args: [String], in dir: URL) throws -> Double {
        let p = Process()
        p.executableURL = cli
        p.arguments = args
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let start = Date()
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw PipelineError.stageFailed(stage: "bench", reason: "\(args) exited \(p.terminationStatus)") }
        return Date().timeIntervalSince(start)
    }
}
