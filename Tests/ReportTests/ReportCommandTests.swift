import Foundation
import SmokeProjectSupport
import XCTest

/// `bnrepro report` on a cache where nothing ran, with and without Graphviz: every figure gets a section
/// that says it never ran (no image), and a missing `dot` is a note, not a crash.
final class ReportCommandTests: XCTestCase {
    func testNeverRunFiguresGetSectionsAndAMissingDotIsANote() throws {
        let cache = try SmokeCache.empty("bnrepro-report-empty")
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        let output = cache.directory.appendingPathComponent("out/page.html")

        let withoutDot = try cache.bnrepro(["report", "--output", output.path], environment: ["PATH": "/nonexistent"])
        XCTAssertEqual(withoutDot.status, 0, withoutDot.stdout + withoutDot.stderr)
        XCTAssertTrue(withoutDot.stdout.contains("0 of 14 figures"), withoutDot.stdout)
        let page = try String(contentsOf: output, encoding: .utf8)
        XCTAssertFalse(page.contains("<img"), "no image, broken or not, for figures that never ran")
        for figure in ["fig1", "fig5", "fig9", "calibration-figure", "appH", "appE", "appK"] {
            XCTAssertTrue(page.contains("<section id=\"\(figure)\""), figure)
        }
        XCTAssertEqual(page.components(separatedBy: "<strong>Never run</strong> at profile <code>smoke</code>").count - 1, 14)
        XCTAssertTrue(page.contains("<code>bnrepro run fig2 --profile smoke --set"), "says how to draw it")
        XCTAssertTrue(page.contains("needs Graphviz's <code>dot</code>, which is not installed"), "the note about dot")
        XCTAssertTrue(page.contains("The calibration has not run at this profile"))
        XCTAssertFalse(page.contains("<svg"))

        let withDot = try cache.bnrepro(["report", "--output", output.path])
        XCTAssertEqual(withDot.status, 0, withDot.stdout + withDot.stderr)
        let drawn = try String(contentsOf: output, encoding: .utf8)
        XCTAssertTrue(drawn.contains("<svg role=\"img\""), "Graphviz drew the DAG (missing? run `make deps`)")
        XCTAssertTrue(drawn.contains("never run"))
    }
}
