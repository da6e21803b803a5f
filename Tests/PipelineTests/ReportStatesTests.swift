import Foundation
import XCTest

/// `bnrepro report` names every stage's state as the cache has it: up to date, stale (a param changed),
/// failed (its last attempt failed) and never run (what waits for a failed stage).
final class ReportStatesTests: XCTestCase {
    func testReportShowsUpToDateStaleFailedAndNeverRun() throws {
        let box = try Sandbox("""
        {
          "stages": [
            { "name": "a", "kind": "test-write", "params": { "text": "A" } },
            { "name": "b", "kind": "test-write", "params": { "text": "B" } },
            { "name": "c", "kind": "test-concat", "deps": ["a", "b"] },
            { "name": "broken", "kind": "test-fail", "deps": ["b"], "params": { "message": "the loss went to NaN <on purpose>" } },
            { "name": "later", "kind": "test-concat", "deps": ["broken"] }
          ]
        }
        """)
        let run = try box.run(["run", "--keep-going"])
        XCTAssertNotEqual(run.status, 0, run.all)
        let report = try box.run(["report", "--set", "a.params.text=Z", "--output", "page.html"])
        XCTAssertEqual(report.status, 0, report.all)
        let page = try String(contentsOf: box.directory.appendingPathComponent("page.html"), encoding: .utf8)
        for (stage, kind, state) in [("a", "test-write", "stale"), ("b", "test-write", "up-to-date"), ("c", "test-concat", "stale"),
                                     ("broken", "test-fail", "failed"), ("later", "test-concat", "never-run")] {
            let row = "<tr><th scope=\"row\"><code>\(stage)</code></th><td>\(kind)</td><td><span class=\"state \(state)\">"
            XCTAssertTrue(page.contains(row), "\(stage) should be \(state)")
        }
        XCTAssertTrue(page.contains("param text changed from &quot;A&quot; to &quot;Z&quot;"), "why a is stale, escaped")
        XCTAssertTrue(page.contains("failed: the loss went to NaN &lt;on purpose&gt;"), "the failure's message, escaped")
        XCTAssertTrue(page.contains("<code>--set a.params.text=Z</code>"), "the overrides the report was made with")
    }
}
