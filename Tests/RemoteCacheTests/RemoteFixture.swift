import DatasetsTestSupport
import Foundation
import Pipeline
import SmokeProjectSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Three figures of the smoke profile run once through the real binary: what every remote test pushes.
/// Fig. 6 chains through the data set (download, decode), Figs. 8 and 9 share one analysis. Commands run
/// with their own XDG_CONFIG_HOME, so a developer's own credentials never reach a test server.
enum RemoteFixture {
    static let figures = ["fig6", "fig8", "fig9"]
    static let origin: Result<SmokeCache, Error> = Result { try SmokeCache.run("bnrepro-remote-origin", targets: figures) }

    static let configHome: URL = (try? temporaryDirectory("bnrepro-remote-config")) ?? FileManager.default.temporaryDirectory

    /// An empty project that reads the origin's archive: the download stage's key holds its URL, so a
    /// project with its own copy elsewhere would share no key with the origin.
    static func reader(_ label: String) throws -> SmokeCache {
        SmokeCache(directory: try SmokeCache.empty(label).directory, arguments: try origin.get().arguments)
    }

    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["XDG_CONFIG_HOME"] = configHome.path
        for (name, _) in env where name.hasPrefix("BNREPRO_REMOTE_TOKEN_") { env[name] = nil }
        return env.merging(extra) { $1 }
    }
}

extension SmokeCache {
    /// A command that takes no pipeline options (`remote add`), run in the project.
    func plain(_ args: [String], environment: [String: String] = RemoteFixture.environment()) throws -> CommandRunner.Result {
        try CommandRunner.run(SmokeCache.binary, args, in: directory, environment: environment, timeout: 300)
    }

    /// A fresh remote name pointing at `url` in this project's remotes.json.
    func addRemote(_ url: String, readOnly: Bool = false) throws -> String {
        let name = "r\(UInt32.random(in: 0...UInt32.max))"
        let result = try plain(["remote", "add", name, url] + (readOnly ? ["--read-only"] : []))
        guard result.status == 0 else { throw SmokeFailure(message: "remote add failed: \(result.stdout)\(result.stderr)") }
        return name
    }

    /// The command with the test environment; its stdout and stderr together.
    func remoteCommand(_ args: [String], environment: [String: String] = RemoteFixture.environment()) throws -> (status: Int32, output: String) {
        let result = try bnrepro(args, environment: environment)
        return (result.status, result.stdout + result.stderr)
    }

    /// Every succeeded record of the cache, by stage (the smoke run has one per stage).
    func records() throws -> [String: ActionRecord] {
        let store = try self.store
        return Dictionary(store.allRecordKeys().compactMap(store.record).map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The same command started in the background, for a test that kills it.
    func start(_ args: [String], environment: [String: String] = RemoteFixture.environment()) throws -> Process {
        let process = Process()
        process.executableURL = SmokeCache.binary
        process.arguments = [args[0]] + arguments + args.dropFirst()
        process.currentDirectoryURL = directory
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// Files of a remote's directory (`ac/` or `cas/`), without temporary files.
func remoteFiles(_ directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
}

/// Every record on the remote names only objects the remote has: what an interrupted or racing push must keep.
func assertRecordsNameOnlyPresentObjects(_ root: URL, file: StaticString = #filePath, line: UInt = #line) throws {
    let objects = Set(remoteFiles(root.appendingPathComponent("cas")))
    for key in remoteFiles(root.appendingPathComponent("ac")) {
        let data = try Data(contentsOf: root.appendingPathComponent("ac/\(key)"))
        guard let record = CacheStore.parseRecord(data, expectedKey: key).record else {
            XCTFail("record \(key) on the remote does not parse", file: file, line: line)
            continue
        }
        for digest in record.objectDigests where !objects.contains(digest) {
            XCTFail("record of \(record.stage) on the remote names object \(digest), which the remote lacks", file: file, line: line)
        }
    }
}

/// The files of a directory (figures/, tables/) by name, with their bytes.
func directoryContents(_ url: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
        files[name] = try Data(contentsOf: url.appendingPathComponent(name))
    }
    return files
}
