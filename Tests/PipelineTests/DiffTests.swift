import ArrayFormats
@testable import BNReproCLI
import Foundation
import Pipeline
import XCTest

/// `bnrepro diff`: two caches of the basic pipeline, one of them changed by hand where a code change would
/// have changed a result.
final class DiffTests: XCTestCase {
    /// Points one output of a stage's record at new bytes (stored first, as a worker would): the same key
    /// with another result, what a changed kind that kept its version would leave.
    func plant(_ bytes: Data, as output: String, inStage stage: String, cache: URL) throws {
        let ref = try CacheStore(root: cache).put(data: bytes)
        let key = try String(contentsOf: cache.appendingPathComponent("refs/\(stage)"), encoding: .utf8)
        let url = cache.appendingPathComponent("actions/\(key).json")
        var record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var outputs = try XCTUnwrap(record["outputs"] as? [String: Any])
        outputs[output] = ["digest": ref.digest, "size": ref.size]
        record["outputs"] = outputs
        try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]).write(to: url)
    }

    /// Every path under a directory with its size and modification time: what "wrote nothing" compares.
    func listing(_ dir: URL) -> [String] {
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.contentModificationDateKey, .fileSizeKey])
        return ((e?.allObjects as? [URL]) ?? []).map { url in
            let v = try? url.resourceValues(forKeys: [.contentModificationDateKey, .fileSizeKey])
            return "\(url.path) \(v?.fileSize ?? -1) \(v?.contentModificationDate?.timeIntervalSince1970 ?? 0)"
        }.sorted()
    }

    func testDiffListsStagesThatDifferAndStagesOnlyInOneCache() throws {
        let box = try Sandbox(basicPipeline)
        let other = box.directory.appendingPathComponent("before")
        XCTAssertEqual(try box.run(["run", "c", "--cache", other.path]).status, 0)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        // Here, `a` now writes Z (and says so in its params.json); `c` reruns on it.
        try plant(Data("Z".utf8), as: "out.txt", inStage: "a", cache: box.cache)
        try plant(Data(#"{"bn":false,"lr":0.1,"repeat":1,"text":"Z"}"#.utf8), as: "params.json", inStage: "a", cache: box.cache)
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run"]).status, 0)
        XCTAssertEqual(box.executions, ["c"])
        let before = listing(box.cache) + listing(other)

        let diff = try box.run(["diff", "--other-cache", other.path])
        XCTAssertEqual(diff.status, 0, diff.all)
        let out = diff.out
        for expected in ["  differs     a\n                - out.txt: 1 of 1 lines differ; the first, line 1: 'A' → 'Z'\n                - params.json: text: \"A\" → \"Z\"\n",
                         "  same        b\n", "  differs     c\n                - out.txt: 1 of 1 lines differ; the first, line 1: 'A+B' → 'Z+B'\n",
                         "  only here   m@bn=true,lr=0.1\n", "  only here   m@bn=false,lr=0.0001\n",
                         "7 stages: 1 same, 2 differs, 4 only here\n", "claims: 0 changed, 0 unchanged\n"] {
            XCTAssertTrue(out.contains(expected), "missing \(expected) in\n\(out)")
        }
        // The other way round, the matrix is only there; and a cache compared with itself is all the same.
        let reverse = try box.run(["diff", "--cache", other.path, "--other-cache", box.cache.path]).out
        XCTAssertTrue(reverse.contains("  only there  m@bn=true,lr=0.1\n"), reverse)
        XCTAssertTrue(reverse.contains("7 stages: 1 same, 2 differs, 4 only there\n"), reverse)
        let itself = try box.run(["diff", "--other-cache", "data/cache"]).out
        XCTAssertTrue(itself.contains("7 stages: 7 same\n"), itself)
        // An empty cache on one side: every stage is in neither when the profile has never run in either.
        let neither = try box.run(["diff", "--other-cache", other.path, "--set", "b.params.text=Q"]).out
        XCTAssertTrue(neither.contains("  in neither  b\n"), neither)
        XCTAssertTrue(neither.contains("  in neither  c\n"), neither)
        XCTAssertEqual(listing(box.cache) + listing(other), before, "diff wrote to a cache")
    }

    func testDiffPrintsTheClaimsThatChanged() throws {
        let box = try Sandbox(basicPipeline)
        let other = box.directory.appendingPathComponent("before")
        XCTAssertEqual(try box.run(["run", "--cache", other.path]).status, 0)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        func claim(_ id: String, ours: String, _ verdict: Claim.Verdict) -> Claim {
            Claim(id: id, figure: "Fig. 2", statement: "the \(id) claim", paper: "1.5", source: "§3", ours: ours, test: "ours ≥ 1",
                  verdict: verdict)
        }
        func claims(_ list: [Claim]) throws -> Data { try JSONEncoder().encode(ClaimsFile(stage: "b", claims: list)) }
        try plant(claims([claim("fig2.moved", ours: "2.0", .holds), claim("fig2.still", ours: "1", .holds)]),
                  as: ClaimsFile.fileName, inStage: "b", cache: box.cache)
        try plant(claims([claim("fig2.moved", ours: "0.5", .fails), claim("fig2.still", ours: "1", .holds), claim("fig2.gone", ours: "3", .holds)]),
                  as: ClaimsFile.fileName, inStage: "b", cache: other)
        let out = try box.run(["diff", "--other-cache", other.path]).out
        XCTAssertTrue(out.contains("  differs     b\n                - claims.json: claims: "), out)
        XCTAssertTrue(out.contains("claims: 2 changed, 1 unchanged\n"), out)
        XCTAssertTrue(out.contains("""
              fig2.moved (Fig. 2): the fig2.moved claim
                  before: paper 1.5, ours 0.5, holds: no
                  after:  paper 1.5, ours 2.0, holds: yes
                  holds:  changed, no → yes

            """), out)
        XCTAssertTrue(out.contains("""
              fig2.gone (Fig. 2): the fig2.gone claim
                  before: paper 1.5, ours 3, holds: yes
                  after:  absent
                  holds:  changed, yes → absent

            """), out)
        XCTAssertFalse(out.contains("fig2.still"), out)
    }

    func testOtherCacheThatIsNotACacheIsAnErrorNamingIt() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        let missing = box.directory.appendingPathComponent("no-such-cache")
        let result = try box.run(["diff", "--other-cache", missing.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.err, "error: \(missing.path): no such directory, so not a bnrepro cache\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path), "diff created the other cache")
        let plain = box.directory.appendingPathComponent("figures-not-a-cache")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        let notCache = try box.run(["diff", "--other-cache", plain.path])
        XCTAssertEqual(notCache.status, 1)
        XCTAssertEqual(notCache.err, "error: \(plain.path): not a bnrepro cache: it has no objects/ and actions/ directories\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: plain.path), [], "diff wrote into it")
    }

    /// `diff REV`: the results recorded for the pipeline file as committed at REV against the current
    /// file's, in one cache; a revision that does not exist is an error that names it.
    func testDiffAgainstTheRevisionOfThePipelineFile() throws {
        let box = try Sandbox(basicPipeline)
        func git(_ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            p.arguments = ["-C", box.directory.path, "-c", "user.name=t", "-c", "user.email=t@t"] + args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "git \(args)")
        }
        try git(["init", "-q"])
        try git(["add", "pipeline.json"])
        try git(["commit", "-q", "-m", "before"])
        XCTAssertEqual(try box.run(["run"]).status, 0)
        // The change under review: stage a writes another text; a and c rerun, b and m stay.
        try box.write(basicPipeline.replacingOccurrences(of: #""text": "A""#, with: #""text": "Z""#))
        XCTAssertEqual(try box.run(["run"]).status, 0)
        let diff = try box.run(["diff", "HEAD"])
        XCTAssertEqual(diff.status, 0, diff.err)
        for expected in ["differs     a", "same        b", "differs     c", "7 stages: 5 same, 2 differs"] {
            XCTAssertTrue(diff.out.contains(expected), "missing \(expected) in\n\(diff.out)")
        }
        let missing = try box.run(["diff", "no-such-revision"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("cannot read pipeline.json at revision 'no-such-revision'"), missing.err)
        let both = try box.run(["diff", "HEAD", "--other-cache", box.cache.path])
        XCTAssertNotEqual(both.status, 0)
    }
}
