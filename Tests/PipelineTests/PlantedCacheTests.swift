import Foundation
import XCTest

/// Cache contents planted by someone else: a digest in a record that is a path, a symlink standing in
/// for an object. Nothing may follow them.
final class PlantedCacheTests: XCTestCase {
    /// Replaces the object holding exactly `content` with a symlink to a file outside the cache of the
    /// same size (a size check alone would take it), and returns the object's path.
    @discardableResult
    private func plantSymlink(_ box: Sandbox, content: String, target: String) throws -> URL {
        let object = try XCTUnwrap(box.objects().first { (try? String(contentsOf: $0, encoding: .utf8)) == content })
        let secret = box.directory.appendingPathComponent("secret.txt")
        try Data(target.utf8).write(to: secret)
        try FileManager.default.removeItem(at: object)
        try FileManager.default.createSymbolicLink(atPath: object.path, withDestinationPath: secret.path)
        return object
    }

    func testVerifyReportsAndQuarantinesASymlinkInObjects() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        let object = try plantSymlink(box, content: "A", target: "S")
        let verify = try box.run(["verify"])
        XCTAssertEqual(verify.status, 1, verify.all)
        XCTAssertTrue(verify.out.contains("(a symbolic link; quarantined)"), verify.out)
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: object.path), "the link left objects/")
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        XCTAssertEqual(box.executions, ["a"])
        XCTAssertEqual(try box.run(["verify"]).status, 0)
    }

    func testCatPublishAndInputsNeverReadThroughASymlink() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        try plantSymlink(box, content: "A+B", target: "XYZ")
        let cat = try box.run(["cat", "c:out.txt"])
        XCTAssertNotEqual(cat.status, 0)
        XCTAssertFalse(cat.out.contains("XYZ"), cat.out)
        XCTAssertTrue(cat.err.contains("a symbolic link, not a cache object"), cat.err)
        // A symlink is not a cached object: c is computed again, and its real output replaces the link.
        try FileManager.default.removeItem(at: box.directory.appendingPathComponent("figures/out.txt"))
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run", "c"]).status, 0)
        XCTAssertEqual(box.executions, ["c"])
        XCTAssertEqual(try String(contentsOf: box.directory.appendingPathComponent("figures/out.txt"), encoding: .utf8), "A+B")
        // An input: a's output replaced by a link is recomputed before c reads it.
        try plantSymlink(box, content: "A", target: "S")
        box.resetExecutions()
        XCTAssertEqual(try box.run(["run", "c", "--force"]).status, 0)
        XCTAssertEqual(box.executions, ["a", "c"])
        XCTAssertEqual(try box.run(["cat", "c:out.txt"]).out, "A+B\n")
    }

    func testDigestsFromRecordsAndRefsAreValidatedBeforeTheyBecomePaths() throws {
        let box = try Sandbox(basicPipeline)
        XCTAssertEqual(try box.run(["run", "a"]).status, 0)
        try box.editRecord(ofStage: "a") { record in
            var outputs = record["outputs"] as? [String: Any] ?? [:]
            outputs["out.txt"] = ["digest": "../../../../../../etc/passwd", "size": 1]
            record["outputs"] = outputs
        }
        let status = try box.run(["status"])
        XCTAssertTrue(status.out.contains("record unreadable: output 'out.txt' digest '../../../../../../etc/passwd' is not a SHA-256 digest"),
                      status.out)
        let cat = try box.run(["cat", "a:out.txt"])
        XCTAssertNotEqual(cat.status, 0)
        XCTAssertFalse(cat.out.contains("root:"), cat.out)
        // A ref that is not a key is no key at all.
        try Data("../actions/x".utf8).write(to: box.cache.appendingPathComponent("refs/a"))
        let show = try box.run(["show", "a"])
        XCTAssertTrue(show.out.contains("status   record unreadable"), show.out)
        XCTAssertFalse(show.out.contains("../actions/x"), show.out)
    }
}
