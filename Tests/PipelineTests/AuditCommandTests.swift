import Foundation
import Pipeline
import XCTest

/// `bnrepro audit` through the real CLI binary with the tests' kinds: it recomputes cached stages in a
/// scratch cache, compares outputs, keeps its verdicts under audits/ and changes nothing else.
final class AuditCommandTests: XCTestCase {
    /// a → c; `drift` writes JSON and .npy whose values the environment can move; m is a matrix of two.
    static let pipeline = """
    {
      "stages": [
        { "name": "a", "kind": "test-write", "params": { "text": "A" } },
        { "name": "c", "kind": "test-concat", "deps": ["a"] },
        { "name": "drift", "kind": "test-drift", "params": { "value": 1, "perThread": 0.5 } },
        { "name": "m", "kind": "test-write", "params": { "text": "M" }, "matrix": { "bn": [true, false] } }
      ]
    }
    """
    static let stages = ["a", "c", "drift", "m@bn=true", "m@bn=false"]

    /// The sandbox, run with one OpenMP thread per stage, so every record says 1.
    func ranSandbox() throws -> Sandbox {
        let box = try Sandbox(Self.pipeline)
        let run = try box.run(["run"], env: ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(run.status, 0, run.all)
        box.resetExecutions()
        return box
    }

    /// The verdict column of a stage's row in the printed table.
    func verdict(of stage: String, in output: String) -> String? {
        // Columns are two or more spaces apart; a verdict has single spaces only.
        let rows = output.split(separator: "\n").map { $0.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        return rows.first { $0.count > 2 && $0[1] == stage && $0[2].hasPrefix("[") }?[0]
    }

    func audit(of stage: String, in box: Sandbox) throws -> StageAudit? {
        try CacheStore(root: box.cache).audit(ofKey: try box.key(ofStage: stage))
    }

    /// Every file under objects/ and actions/ with its size and modification time.
    func listing(_ box: Sandbox, _ sub: String) -> [String] {
        let root = box.cache.appendingPathComponent(sub)
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
        return (e?.allObjects as? [URL] ?? []).map { url in
            let v = try? url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
            return "\(url.path) \(v?.fileSize ?? -1) \(v?.contentModificationDate?.timeIntervalSince1970 ?? -1)"
        }.sorted()
    }

    func testAnUnchangedCacheAuditsIdenticalAndOnlyAuditsAreWritten() throws {
        let box = try ranSandbox()
        let objects = listing(box, "objects"), actions = listing(box, "actions")
        let result = try box.run(["audit"], env: ["OMP_NUM_THREADS": ""])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.out.contains("5 stages audited: 5 identical"), result.out)
        XCTAssertEqual(box.executions.sorted(), Self.stages.sorted(), "each stage was computed again")
        for stage in Self.stages {
            let audit = try XCTUnwrap(try audit(of: stage, in: box), stage)
            XCTAssertEqual(audit.verdict, .identical, stage)
            XCTAssertEqual(audit.originalThreads, 1, stage)
            XCTAssertEqual(audit.auditThreads, 1, "\(stage): the original's thread count, OMP_NUM_THREADS being unset")
            XCTAssertTrue(audit.outputs.allSatisfy { $0.result == .identical }, stage)
        }
        let summary = try RecordCodingForTests.decode(AuditSummary.self, from: box.cache.appendingPathComponent("audits/audit.json"))
        XCTAssertEqual(summary.stages.map(\.stage), Self.stages)
        XCTAssertEqual(listing(box, "objects"), objects, "the real cache's objects are untouched")
        XCTAssertEqual(listing(box, "actions"), actions, "the real cache's records are untouched")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: box.cache.appendingPathComponent("tmp").path), [],
                       "no scratch cache is left behind")
    }

    func testAResultThatDriftsDiffersWithTheFieldsAndValuesNamed() throws {
        let box = try ranSandbox()
        let result = try box.run(["audit", "drift", "c"], env: ["OMP_NUM_THREADS": "", "BNREPRO_TEST_DRIFT": "0.25"])
        XCTAssertEqual(result.status, 1, "a difference at the same thread count fails the audit:\n\(result.all)")
        XCTAssertEqual(verdict(of: "drift", in: result.out), "differs", result.out)
        XCTAssertEqual(verdict(of: "c", in: result.out), "identical", result.out)
        XCTAssertTrue(result.out.contains("value: 1.5 → 1.75"), result.out)
        XCTAssertTrue(result.out.contains("nested.items[1]: 1.5 → 1.75"), result.out)
        XCTAssertTrue(result.out.contains("- values.npy: 1 of 2 values differ; largest absolute difference 0.25 (at 1), largest relative 0.143"),
                      result.out)
        XCTAssertTrue(result.out.contains("2 stages audited: 1 identical, 1 differ"), result.out)
        let audit = try XCTUnwrap(try audit(of: "drift", in: box))
        XCTAssertEqual(audit.verdict, .differs)
        XCTAssertEqual(audit.outputs.first { $0.name == "result.json" }?.result, .differs)
        XCTAssertFalse(audit.outputs.first { $0.name == "result.json" }?.details.contains { $0.hasPrefix("fixed") } ?? true,
                       "a field that did not change is not listed")

        // The report shows each stage's last audit.
        XCTAssertEqual(try box.run(["report", "--output", "page.html"]).status, 0)
        let page = try String(contentsOf: box.directory.appendingPathComponent("page.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<tr><th scope=\"row\"><code>drift</code></th><td><span class=\"audit differs\">differs</span>"), page)
        XCTAssertTrue(page.contains("<tr><th scope=\"row\"><code>c</code></th><td><span class=\"audit identical\">identical</span>"))
        XCTAssertTrue(page.contains("<tr><th scope=\"row\"><code>a</code></th><td>not audited</td>"))
        XCTAssertTrue(page.contains("2 of 5 up-to-date results audited: 1 identical, 1 differ"), "the section's summary")
    }

    func testAnotherThreadCountIsReportedAsSuchNotAsAFailure() throws {
        let box = try ranSandbox()
        let threads = try box.run(["audit", "drift", "--threads", "2"])
        XCTAssertEqual(threads.status, 0, "a thread-count difference is not a failure:\n\(threads.all)")
        XCTAssertEqual(verdict(of: "drift", in: threads.out), "differs (threads 1 vs 2)", threads.out)
        XCTAssertTrue(threads.out.contains("value: 1.5 → 2"), threads.out)
        XCTAssertEqual(try audit(of: "drift", in: box)?.verdict, .differsWithThreads)

        let environment = try box.run(["audit", "drift"], env: ["OMP_NUM_THREADS": "2"])
        XCTAssertEqual(environment.status, 0, environment.all)
        XCTAssertTrue(environment.out.contains("differs (threads 1 vs 2)"), "OMP_NUM_THREADS chooses the count too:\n\(environment.out)")

        let same = try box.run(["audit", "drift", "a", "--threads", "2"])
        XCTAssertEqual(same.status, 0, same.all)
        XCTAssertEqual(verdict(of: "a", in: same.out), "identical", "a's text does not depend on threads:\n\(same.out)")
        XCTAssertTrue(same.out.contains("2 stages audited: 1 identical, 1 differ only with the thread count"), same.out)
    }

    func testARecordWithoutAThreadCountStillReadsAndItsDifferenceFails() throws {
        let box = try ranSandbox()
        XCTAssertEqual(try CacheStore(root: box.cache).anyRecord(try box.key(ofStage: "drift"))?.threads, 1)
        try box.editRecord(ofStage: "drift") { $0.removeValue(forKey: "threads") }
        let store = try CacheStore(root: box.cache)
        let record = try XCTUnwrap(store.record(try box.key(ofStage: "drift")), "a record from before the field still reads")
        XCTAssertNil(record.threads)
        XCTAssertEqual(record.schemaVersion, 1)
        let result = try box.run(["audit", "drift", "--threads", "2"])
        XCTAssertEqual(result.status, 1, "with the original count unknown, a difference cannot be put down to threads:\n\(result.all)")
        XCTAssertEqual(verdict(of: "drift", in: result.out), "differs (original thread count not recorded)", result.out)
        let run = try box.run(["run"])
        XCTAssertTrue(run.all.contains("ran 0"), "still a cache hit: \(run.all)")
    }

    func testStagesThatCannotBeAuditedAreClearErrors() throws {
        let box = try Sandbox(Self.pipeline)
        let empty = try box.run(["audit"])
        XCTAssertEqual(empty.status, 1)
        XCTAssertTrue(empty.err.contains("not a bnrepro cache") || empty.err.contains("no such directory"), empty.err)
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        let never = try box.run(["audit", "c"])
        XCTAssertEqual(never.status, 1)
        XCTAssertTrue(never.err.contains("stage 'c' has no cached result for the current pipeline; run it first"), never.err)
        let unknown = try box.run(["audit", "cc"])
        XCTAssertTrue(unknown.err.contains("no stage named 'cc'"), unknown.err)
        let some = try box.run(["audit"])
        XCTAssertEqual(some.status, 0, some.all)
        XCTAssertTrue(some.out.contains("1 stage audited: 1 identical"), some.out)
        XCTAssertTrue(some.out.contains("not audited, not up to date (4): c, drift, m@bn=true, m@bn=false"), some.out)
        XCTAssertEqual(try box.run(["audit", "--sample", "0"]).status, 64, "a usage error")
    }

    func testSampleAuditsThatManyStagesAndTheSeedRepeatsTheChoice() throws {
        let box = try ranSandbox()
        func sampled(_ args: [String]) throws -> [String] {
            let result = try box.run(["audit"] + args)
            XCTAssertEqual(result.status, 0, result.all)
            let summary = try RecordCodingForTests.decode(AuditSummary.self, from: box.cache.appendingPathComponent("audits/audit.json"))
            return summary.stages.map(\.stage)
        }
        let first = try sampled(["--sample", "2", "--seed", "7"])
        XCTAssertEqual(first.count, 2)
        XCTAssertEqual(try sampled(["--sample", "2", "--seed", "7"]), first, "the seed decides")
        let seeds = try (0..<6).map { try sampled(["--sample", "2", "--seed", "\($0)"]) }
        XCTAssertGreaterThan(Set(seeds).count, 1, "other seeds choose other stages")
        XCTAssertEqual(try sampled(["--sample", "9", "--seed", "1"]), Self.stages, "more than there are: all of them")
        XCTAssertEqual(try sampled(["m", "--sample", "1", "--seed", "3"]).count, 1, "a sample of the targets")
        let printed = try box.run(["audit", "--sample", "1"])
        XCTAssertTrue(printed.err.contains("sampled 1 stage(s) with --seed "), "a fresh seed is printed:\n\(printed.err)")
    }

    func testGCDropsAnAuditWithItsRecord() throws {
        let box = try ranSandbox()
        XCTAssertEqual(try box.run(["audit", "a"]).status, 0)
        let file = box.cache.appendingPathComponent("audits/\(try box.key(ofStage: "a")).json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path))
        try box.write(Self.pipeline.replacingOccurrences(of: #""text": "A""#, with: #""text": "Z""#))
        let gc = try box.run(["gc"])
        XCTAssertEqual(gc.status, 0, gc.all)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "the audit went with a's old record")
        XCTAssertTrue(FileManager.default.fileExists(atPath: box.cache.appendingPathComponent("audits/audit.json").path))
    }
}

/// Decodes a file the way the store writes it (ISO 8601 dates).
enum RecordCodingForTests {
    static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(contentsOf: url))
    }
}
