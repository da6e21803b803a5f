import DatasetsTestSupport
import Foundation
import Pipeline

/// A project directory with the shipped pipeline.json whose smoke profile was run through the real
/// `bnrepro` binary on a small generated CIFAR-10 archive (as SmokeEndToEndTests does), and its report.
public struct SmokeCache: Sendable {
    public static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
    public static var shippedPipeline: URL { repository.appendingPathComponent("pipeline.json") }

    public static var binary: URL {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here, here.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("bnrepro")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return Bundle.main.bundleURL.appendingPathComponent("bnrepro")
    }

    public let directory: URL
    /// The `--profile smoke --set …` arguments every command on this project needs.
    public let arguments: [String]
    public init(directory: URL, arguments: [String]) {
        self.directory = directory
        self.arguments = arguments
    }

    public var store: CacheStore { get throws { try CacheStore(root: directory.appendingPathComponent("data/cache")) } }

    /// A project with the archive in place and nothing run yet.
    public static func empty(_ label: String) throws -> SmokeCache {
        let dir = try temporaryDirectory(label)
        try FileManager.default.copyItem(at: shippedPipeline, to: dir.appendingPathComponent("pipeline.json"))
        let archive = dir.appendingPathComponent("cifar.tar.gz")
        try Data(SyntheticCIFAR(recordsPerFile: 240).tarGz()).write(to: archive)
        let md5 = try CommandRunner.run(URL(fileURLWithPath: "/usr/bin/md5sum"), [archive.path]).stdout.prefix { $0 != " " }
        return SmokeCache(directory: dir, arguments: ["--profile", "smoke", "--set", "download.params.url=\(archive.absoluteString)",
                                                      "--set", "download.params.md5=\(md5)", "--set", "decode.params.records_per_file=240"])
    }

    /// The whole smoke profile, run (or only `targets` and what they need).
    public static func run(_ label: String, targets: [String] = []) throws -> SmokeCache {
        let cache = try empty(label)
        let run = try cache.bnrepro(["run", "-j", "2"] + targets)
        guard run.status == 0 else { throw SmokeFailure(message: "bnrepro run failed: \(run.stdout)\(run.stderr)") }
        return cache
    }

    public func bnrepro(_ args: [String], environment: [String: String]? = nil) throws -> CommandRunner.Result {
        let command = args.first.map { [$0] } ?? []
        return try CommandRunner.run(Self.binary, command + arguments + args.dropFirst(), in: directory, environment: environment, timeout: 300)
    }

    /// Claim ids by stage, read from the cached claims.json of every record.
    public func claimIDs() throws -> [String: [String]] {
        let store = try self.store
        var ids: [String: [String]] = [:]
        for key in store.allRecordKeys() {
            guard let record = store.record(key), let file = try CachedClaims.read(record, store: store) else { continue }
            ids[record.stage] = file.claims.map(\.id)
        }
        return ids
    }
}

public struct SmokeFailure: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
