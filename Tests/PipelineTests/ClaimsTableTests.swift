import Foundation
import Pipeline
import XCTest

/// The claims table: one row per claim id (a figure repeats its analysis' claims), figures in order,
/// counts by verdict, and Markdown that survives a '|' in a cell.
final class ClaimsTableTests: XCTestCase {
    func claim(_ id: String, _ figure: String, _ verdict: Claim.Verdict, ours: String = "1") -> Claim {
        Claim(id: id, figure: figure, statement: "s \(id)", paper: "p", source: "src", ours: ours, test: "t", verdict: verdict)
    }

    func testDeduplicatesOrdersAndCounts() throws {
        let analysis = ClaimsFile(stage: "gradient-histogram", claims: [claim("fig2.a", "Fig. 2", .holds)])
        let figure = ClaimsFile(stage: "fig2", claims: [claim("fig2.a", "Fig. 2", .holds), claim("fig10.b", "Fig. 10", .fails)])
        let other = ClaimsFile(stage: "x", claims: [claim("table1.c", "Table 1", .deferred), claim("fig1.d", "Fig. 1", .fails, ours: "a|b")])
        let table = ClaimsTable([analysis, figure, other])
        XCTAssertEqual(table.claims.map(\.id), ["fig1.d", "fig2.a", "fig10.b", "table1.c"])
        XCTAssertEqual(table.count(.holds), 1)
        XCTAssertEqual(table.failing.map(\.id), ["fig1.d", "fig10.b"])
        XCTAssertEqual(table.summary, "4 claims: 1 hold, 2 fail, 0 inconclusive, 1 deferred to a longer budget; "
                       + "out of sample (not fit by the calibration): 1 of 4 hold")
        // An in-sample claim is marked in the table and left out of the out-of-sample count.
        var fitted = claim("fig2.a", "Fig. 2", .holds)
        fitted.inSample = true
        let marked = ClaimsTable([ClaimsFile(stage: "s", claims: [fitted, claim("fig1.z", "Fig. 1", .inconclusive)])])
        XCTAssertEqual(marked.summary, "2 claims: 1 hold, 0 fail, 1 inconclusive, 0 deferred to a longer budget; "
                       + "out of sample (not fit by the calibration): 0 of 1 hold")
        XCTAssertTrue(marked.markdown.contains("| yes (in-sample) |"), marked.markdown)
        XCTAssertEqual(marked.undecidedOrFailing.map(\.id), ["fig1.z"])
        let rows = table.markdown.split(separator: "\n")
        XCTAssertEqual(rows.count, 6)
        XCTAssertTrue(rows[2].contains("a\\|b"), String(rows[2]))
        XCTAssertTrue(rows[5].hasSuffix("| deferred |"), String(rows[5]))
    }

    func testClaimsFileRoundTrips() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let file = ClaimsFile(stage: "fig3", claims: [claim("fig3.a", "Fig. 3", .fails)])
        try file.write(to: url)
        XCTAssertEqual(try ClaimsFile.read(from: url), file)
    }
}
