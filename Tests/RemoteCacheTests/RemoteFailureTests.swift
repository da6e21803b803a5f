import DatasetsTestSupport
import Foundation
import Pipeline
import SmokeProjectSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What a remote that is down, refuses the token, has an untrusted certificate, or is written by an
/// interrupted or a racing push does to push and pull.
final class RemoteFailureTests: XCTestCase {
    func testAServerThatIsDownGivesAClearErrorAndRunPullComputesLocally() throws {
        let reader = try RemoteFixture.reader("bnrepro-remote-down")
        let url = "http://127.0.0.1:\(TestHTTPServer.closedPort())/cache"
        let name = try reader.addRemote(url)
        let pull = try reader.remoteCommand(["pull", "--remote", name] + RemoteFixture.figures)
        XCTAssertNotEqual(pull.status, 0)
        XCTAssertTrue(pull.output.contains("cannot reach the remote at \(url)/ac/") && pull.output.contains("connection refused"), pull.output)
        let run = try reader.remoteCommand(["run", "decode", "--pull", "--remote", name])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("no more lookups on remote '\(name)' in this run; computing locally"), run.output)
        XCTAssertTrue(run.output.contains("ran 2, cached 0"), run.output)
    }

    func testAWrongTokenGivesA401MessageAndTheRightOneFromTheCredentialsFileWorks() throws {
        let origin = try RemoteFixture.origin.get()
        let secret = "right-token-\(UInt32.random(in: 0...UInt32.max))"
        let nginx = try Nginx(Nginx.Options(token: secret))
        let name = try origin.addRemote(nginx.url)
        let variable = "BNREPRO_REMOTE_TOKEN_\(name.uppercased())"
        let wrong = try origin.remoteCommand(["push", "--remote", name], environment: RemoteFixture.environment([variable: "wrong-token-value"]))
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.output.contains("remote '\(name)' answered 401 Unauthorized") && wrong.output.contains("the token sent was refused"), wrong.output)
        XCTAssertTrue(wrong.output.contains("$\(variable)"), wrong.output)
        XCTAssertFalse(wrong.output.contains("wrong-token-value"), "the token was printed")
        XCTAssertTrue(remoteFiles(nginx.root.appendingPathComponent("ac")).isEmpty)

        let config = try temporaryDirectory("bnrepro-credentials")
        let tokenFile = config.appendingPathComponent("token")
        try Data("\(secret)\n".utf8).write(to: tokenFile)
        try FileManager.default.createDirectory(at: config.appendingPathComponent("bnrepro"), withIntermediateDirectories: true)
        try Data(#"{"remotes": {"\#(name)": {"tokenFile": "\#(tokenFile.path)"}}}"#.utf8)
            .write(to: config.appendingPathComponent("bnrepro/credentials.json"))
        let right = try origin.remoteCommand(["push", "--remote", name], environment: RemoteFixture.environment(["XDG_CONFIG_HOME": config.path]))
        XCTAssertEqual(right.status, 0, right.output)
        XCTAssertFalse(right.output.contains(secret))
        for key in remoteFiles(nginx.root.appendingPathComponent("ac")) {
            let text = try String(contentsOf: nginx.root.appendingPathComponent("ac/\(key)"), encoding: .utf8)
            XCTAssertFalse(text.contains(secret), "the token is in a record")
        }
    }

    func testAnUntrustedCertificateIsAnErrorThatSaysSo() throws {
        let reader = try RemoteFixture.reader("bnrepro-remote-tls")
        let nginx = try Nginx(Nginx.Options(tls: true))
        let pull = try reader.remoteCommand(["pull", "--remote", try reader.addRemote(nginx.url)] + RemoteFixture.figures)
        XCTAssertNotEqual(pull.status, 0)
        XCTAssertTrue(pull.output.contains("the TLS certificate of \(nginx.url)/ac/") && pull.output.contains("is not trusted by this system's trust store"),
                      pull.output)
    }

    /// Killed while it uploads objects, then while it uploads records: the remote never holds a record
    /// that names an object it lacks, and a push run to the end afterwards finishes the job.
    func testAnInterruptedPushLeavesNoRecordNamingAMissingObject() throws {
        let origin = try RemoteFixture.origin.get()
        let nginx = try Nginx(Nginx.Options(requestsPerSecond: 20))
        let name = try origin.addRemote(nginx.url)
        let records = nginx.root.appendingPathComponent("ac"), objects = nginx.root.appendingPathComponent("cas")

        let first = try origin.start(["push", "--remote", name, "--transfers", "2"])
        XCTAssertTrue(waitUntil(timeout: 60) { !remoteFiles(objects).isEmpty })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertTrue(remoteFiles(records).isEmpty, "a record went up before the objects")
        try assertRecordsNameOnlyPresentObjects(nginx.root)

        let second = try origin.start(["push", "--remote", name, "--transfers", "2"])
        XCTAssertTrue(waitUntil(timeout: 120) { !remoteFiles(records).isEmpty })
        kill(second.processIdentifier, SIGKILL)
        second.waitUntilExit()
        let total = try origin.records().count
        XCTAssertLessThan(remoteFiles(records).count, total, "the push finished before it was killed; the test proves nothing")
        try assertRecordsNameOnlyPresentObjects(nginx.root)

        let last = try origin.remoteCommand(["push", "--remote", name])
        XCTAssertEqual(last.status, 0, last.output)
        XCTAssertEqual(remoteFiles(records).count, total)
    }

    /// Two caches with a different record for every key push at once: each key keeps one of the two
    /// records, and the pusher whose record is not there says so.
    func testTwoPushersRaceAndTheLoserReportsTheConflict() throws {
        let origin = try RemoteFixture.origin.get()
        let rival = try RemoteFixture.reader("bnrepro-remote-rival")
        let rivalCache = rival.directory.appendingPathComponent("data/cache")
        try? FileManager.default.removeItem(at: rivalCache)
        try FileManager.default.copyItem(at: origin.directory.appendingPathComponent("data/cache"), to: rivalCache)
        let actions = rivalCache.appendingPathComponent("actions")
        for file in try FileManager.default.contentsOfDirectory(atPath: actions.path) where file.hasSuffix(".json") {
            let url = actions.appendingPathComponent(file)
            var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            json["host"] = "rival-host"
            try FileManager.default.removeItem(at: url)
            try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]).write(to: url)
        }
        let nginx = try Nginx()
        let names = [try origin.addRemote(nginx.url), try rival.addRemote(nginx.url)]
        let outputs = RaceOutputs()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let project = i == 0 ? origin : rival
            let result = try? project.remoteCommand(["push", "--remote", names[i]])
            outputs.set(i, result?.output ?? "push did not run")
        }
        try assertRecordsNameOnlyPresentObjects(nginx.root)
        let mine = try origin.store, theirs = try rival.store
        var conflicts = [0, 0]
        for (stage, record) in try origin.records() {
            let onRemote = try Data(contentsOf: nginx.root.appendingPathComponent("ac/\(record.key)"))
            let candidates = [try mine.recordData(record.key), try theirs.recordData(record.key)]
            guard let kept = candidates.firstIndex(of: onRemote) else { XCTFail("\(stage): the remote holds neither pusher's record"); continue }
            let loser = 1 - kept
            XCTAssertTrue(outputs.get(loser).contains("conflict \(stage):"), "\(stage): pusher \(loser) lost and did not say so:\n\(outputs.get(loser))")
            conflicts[loser] += 1
        }
        XCTAssertGreaterThan(conflicts.reduce(0, +), 0)
    }
}

private final class RaceOutputs: @unchecked Sendable {
    private let lock = NSLock()
    private var outputs = ["", ""]
    func set(_ i: Int, _ text: String) { lock.lock(); outputs[i] = text; lock.unlock() }
    func get(_ i: Int) -> String { lock.lock(); defer { lock.unlock() }; return outputs[i] }
}

private func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return false
}
