import Foundation
import Pipeline
import XCTest

/// The fault-injection sweep of `FaultInjectionSweepTests` in the two commands that write through a
/// remote (issue 25, with the remote issue): every write-side operation of `push` (to a `file://`
/// remote) and of `pull` (into the local cache) fails in turn, with ENOSPC and EIO alternately. For each:
/// the command fails and names the errno and the file; the remote keeps no record that names a missing
/// object and no temporary file; the local cache passes `verify`, no record names a missing object and
/// `tmp/` is empty; and the same command without injection then completes with the bytes of a transfer
/// that was never injected.
final class RemoteFaultInjectionSweepTests: XCTestCase {
    static let pipeline = FaultInjectionSweepTests.testKinds.pipeline
    static let stages = ["a", "b", "c"]
    /// One transfer at a time, so that the nth operation is the same one in every run (as `-j 1` for `run`).
    static let push = ["push", "--transfers", "1"], pull = ["pull", "--transfers", "1"]

    /// Every operation of `push`: objects copied to the remote, synced and renamed, then records linked.
    func testEveryWriteOfAPushFailsCleanly() throws {
        let base = try project()
        XCTAssertEqual(try base.run(["run", "-j", "1"]).status, 0)
        // A record holds its run's times, so the uninjected push that sets the expected bytes starts from base too.
        let reference = try copy(base)
        XCTAssertEqual(try reference.run(Self.push).status, 0)
        let expected = try remoteContents(reference)
        try sweep(Self.push, from: base, firstErrno: "ENOSPC") { box, path, what in
            XCTAssertTrue(path.hasPrefix(self.remote(box).path) || path.hasPrefix(box.cache.path), "\(what): \(path)")
            try self.assertRemoteConsistent(box, what)
        } after: { box, what in
            XCTAssertEqual(try self.remoteContents(box), expected, what)
        }
    }

    /// Every operation of `pull` into an empty cache: objects downloaded into tmp/, verified and stored,
    /// then records written.
    func testEveryWriteOfAPullFailsCleanly() throws {
        let origin = try project()
        XCTAssertEqual(try origin.run(["run", "-j", "1"]).status, 0)
        XCTAssertEqual(try origin.run(Self.push).status, 0)
        let expected = try outputs(of: origin, keys: origin)
        try sweep(Self.pull, from: try project(sharing: origin), firstErrno: "EIO") { box, path, what in
            XCTAssertTrue(path.hasPrefix(box.directory.path), "\(what): a pull writes only into its project: \(path)")
        } after: { box, what in
            XCTAssertEqual(try self.outputs(of: box, keys: origin), expected, what)
            XCTAssertTrue(try box.run(["run", "-j", "1"]).all.contains("ran 0,"), "\(what): the pulled cache is complete")
        }
    }

    /// Fails each operation of `command` (from a copy of `base`) in turn, the two errnos alternating; `failed`
    /// checks what the failure left, then the cache is checked, and `after` checks the command run again.
    private func sweep(_ command: [String], from base: Sandbox, firstErrno: String,
                       failed: (Sandbox, String, String) throws -> Void, after: (Sandbox, String) throws -> Void) throws {
        let started = Date(), name = command[0]
        let count = try operations(name, from: base)
        XCTAssertGreaterThan(count, 5, "the hook saw the \(name)'s writes")
        for n in 1...count {
            let errnoName = n % 2 == 1 ? firstErrno : (firstErrno == "EIO" ? "ENOSPC" : "EIO")
            let box = try copy(base)
            let what = "\(errnoName) at operation \(n) of \(name)"
            guard let path = try injectedRun(box, command, filter: name, nth: n, errnoName: errnoName, what: what) else { continue }
            try failed(box, path, what)
            try assertCacheConsistent(box, what)
            let again = try box.run(command)
            XCTAssertEqual(again.status, 0, "\(what): the \(name) again failed:\n\(again.all)")
            try after(box, what)
        }
        print("fault-injection sweep, \(name): \(count) injection points in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    // MARK: helpers

    /// A project of the test kinds with a default `file://` remote: its own, or `sharing`'s.
    private func project(sharing other: Sandbox? = nil) throws -> Sandbox {
        let box = try Sandbox(Self.pipeline)
        let url = remote(other ?? box)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let added = try box.run(["remote", "add", "origin", url.absoluteString, "--default"])
        XCTAssertEqual(added.status, 0, added.all)
        return box
    }

    private func remote(_ box: Sandbox) -> URL { box.directory.appendingPathComponent("remote") }

    /// A project with `base`'s pipeline, remotes, cache and own remote directory (copied, so each
    /// injected run starts from the same state).
    private func copy(_ base: Sandbox) throws -> Sandbox {
        let box = try Sandbox(Self.pipeline)
        for item in ["data", "remote", "remotes.json"] {
            let from = base.directory.appendingPathComponent(item)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            try FileManager.default.copyItem(at: from, to: box.directory.appendingPathComponent(item))
        }
        // remotes.json names base's remote when it is its own: point it at the copy's.
        let config = box.directory.appendingPathComponent("remotes.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        try Data(text.replacingOccurrences(of: remote(base).absoluteString, with: remote(box).absoluteString)
            .replacingOccurrences(of: remote(base).path, with: remote(box).path).utf8).write(to: config)
        return box
    }

    /// The write-side operations of one `command` from `base`'s state, as the hook counts them.
    private func operations(_ command: String, from base: Sandbox) throws -> Int {
        let box = try copy(base)
        let log = box.directory.appendingPathComponent("faults.txt")
        let run = try box.run([command, "--transfers", "1"], env: injection("nth=0 process=\(command)", log: log))
        XCTAssertEqual(run.status, 0, run.all)
        let text = try String(contentsOf: log, encoding: .utf8)
        let counts = text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        XCTAssertEqual(counts.count, 1, "one process matched \(command): \(text)")
        return counts.first ?? 0
    }

    /// Runs `args` with the nth operation failing; checks that the failure is reported with the errno's
    /// text and the file. Returns the file the hook failed, or nil when nothing fired.
    private func injectedRun(_ box: Sandbox, _ args: [String], filter: String, nth: Int, errnoName: String, what: String) throws -> String? {
        let log = box.directory.appendingPathComponent("faults.txt")
        let run = try box.run(args, env: injection("nth=\(nth) errno=\(errnoName) process=\(filter)", log: log))
        guard let fired = try? String(contentsOf: log, encoding: .utf8), let path = FaultInjectionSweepTests.firedPath(fired) else {
            XCTFail("\(what): nothing was injected")
            return nil
        }
        XCTAssertNotEqual(run.status, 0, "\(what) (\(fired)) went unnoticed:\n\(run.all)")
        XCTAssertTrue(run.all.contains(errnoName == "ENOSPC" ? "No space left on device" : "Input/output error"), "\(what): \(run.all)")
        XCTAssertTrue(FaultInjectionSweepTests.names(run.all, path) || Self.namesRemoteTemporary(run.all, path),
                      "\(what): the message does not name \(path):\n\(run.all)")
        return path
    }

    /// A `file://` remote writes `.name.host.pid.random` beside `name` and reports the failure on `name`.
    static func namesRemoteTemporary(_ text: String, _ path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        guard name.hasPrefix("."), let end = name.dropFirst().firstIndex(of: ".") else { return false }
        let target = url.deletingLastPathComponent().appendingPathComponent(String(name[name.index(after: name.startIndex)..<end])).path
        return text.contains(target)
    }

    private func injection(_ spec: String, log: URL) -> [String: String] {
        ["LD_PRELOAD": FaultInjectionSweepTests.library.path, "BNREPRO_TEST_COUNTER": "", "BNREPRO_FAULT_INJECT": "\(spec) log=\(log.path)"]
    }

    /// The local cache after a failed command: it verifies, its records name present objects, tmp/ is empty.
    private func assertCacheConsistent(_ box: Sandbox, _ what: String) throws {
        let verify = try box.run(["verify"])
        XCTAssertEqual(verify.status, 0, "\(what): \(verify.all)")
        let store = try CacheStore(root: box.cache)
        for key in store.allRecordKeys() {
            XCTAssertNotNil(store.record(key), "\(what): record \(key) names a missing object or cannot be read")
        }
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: box.cache.appendingPathComponent("tmp").path)) ?? []
        XCTAssertEqual(tmp, [], "\(what): tmp/ is not clean")
    }

    /// The remote after a failed push: every record names objects the remote has, and no temporary file is left.
    private func assertRemoteConsistent(_ box: Sandbox, _ what: String) throws {
        let root = remote(box)
        let objects = Set(visibleFiles(root.appendingPathComponent("cas")))
        for key in visibleFiles(root.appendingPathComponent("ac")) {
            let data = try Data(contentsOf: root.appendingPathComponent("ac/\(key)"))
            guard let record = CacheStore.parseRecord(data, expectedKey: key).record else {
                XCTFail("\(what): record \(key) on the remote does not parse")
                continue
            }
            for digest in record.objectDigests where !objects.contains(digest) {
                XCTFail("\(what): the remote's record of \(record.stage) names object \(digest), which the remote lacks")
            }
        }
        for directory in ["ac", "cas"] {
            let all = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path)) ?? []
            XCTAssertEqual(all.filter { $0.hasPrefix(".") }, [], "\(what): temporary files left in the remote's \(directory)/")
        }
    }

    private func visibleFiles(_ directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The remote's files and their bytes.
    private func remoteContents(_ box: Sandbox) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for directory in ["ac", "cas"] {
            for name in visibleFiles(remote(box).appendingPathComponent(directory)) {
                files["\(directory)/\(name)"] = try Data(contentsOf: remote(box).appendingPathComponent("\(directory)/\(name)"))
            }
        }
        return files
    }

    /// Every stage's output digests, under the keys `keys` ran them with (a pull writes records, not refs).
    private func outputs(of box: Sandbox, keys: Sandbox) throws -> [String: [String: String]] {
        let store = try CacheStore(root: box.cache)
        var result: [String: [String: String]] = [:]
        for stage in Self.stages {
            let record = try XCTUnwrap(store.record(try keys.key(ofStage: stage)), "\(stage) is cached")
            result[stage] = record.outputs.mapValues(\.digest)
        }
        return result
    }
}
