import Pipeline
@testable import Report
import XCTest

/// The report's pieces without a cache: escaping, the Markdown subset, CSV, the Graphviz source.
final class ReportHTMLTests: XCTestCase {
    func testInterpolatedTextIsEscapedAndMarkupIsNot() {
        let name = "<script>alert('x')</script> & \"q\""
        let html: HTML = "<p title=\"\(name)\">\(name)</p>"
        XCTAssertEqual(html.markup, "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\">"
                       + "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>")
        let inner: HTML = "<b>\(name)</b>"
        XCTAssertEqual(("<i>\(inner)</i>" as HTML).markup, "<i>" + inner.markup + "</i>", "HTML is inserted once, not escaped twice")
    }

    func testMarkdownTableBecomesAScrollingTableWithHeaders() {
        let md = """
        # Calibration
        Score = a + b, **lower** is better:
        - **Fig. 5**: RMS `distance`;
        - logits <b>

        | rank | setting | score |
        |---|---|---|
        | 1 | a \\| b | 7.1 **(chosen)** |
        | 2 | c | 8 |
        """
        let html = MarkdownHTML.render(md, headingOffset: 2, tableLabel: "scores").markup
        XCTAssertTrue(html.contains("<h3>Calibration</h3>"), html)
        XCTAssertTrue(html.contains("<p>Score = a + b, <strong>lower</strong> is better:</p>"), html)
        XCTAssertTrue(html.contains("<li><strong>Fig. 5</strong>: RMS <code>distance</code>;</li><li>logits &lt;b&gt;</li>"), html)
        XCTAssertTrue(html.contains("<div class=\"scroll\" role=\"region\" aria-label=\"scores\" tabindex=\"0\">"), html)
        XCTAssertTrue(html.contains("<th scope=\"col\">rank</th><th scope=\"col\">setting</th><th scope=\"col\">score</th>"), html)
        XCTAssertTrue(html.contains("<tr><td>1</td><td>a | b</td><td>7.1 <strong>(chosen)</strong></td></tr>"), html)
        XCTAssertEqual(html.components(separatedBy: "<tr>").count - 1, 3, "a header and two rows; the |---| row is dropped")
    }

    func testCSVQuotesRoundTripAndJSONFlattens() throws {
        let rows = [["a", "b,c"], ["say \"hi\"", "line\nbreak"]]
        let text = CSVText.rows(rows)
        XCTAssertEqual(text, "a,\"b,c\"\n\"say \"\"hi\"\"\",\"line\nbreak\"\n")
        XCTAssertEqual(CSVText.parse(text), rows)
        let json = try JSONParser.parse(#"{"depth": 8, "h": {"bn": {"counts": [2, 7]}}, "ok": true, "name": "x"}"#)
        XCTAssertEqual(CSVText.flattened(json), [["path", "value"], ["depth", "8"], ["h.bn.counts[0]", "2"], ["h.bn.counts[1]", "7"],
                                                 ["ok", "true"], ["name", "x"]])
    }

    func testDotQuotingAndShellQuoting() {
        XCTAssertEqual(DAGDrawing.quoted("a\"b\\c\nd"), #""a\"b\\c\nd""#)
        XCTAssertEqual(ReportSnapshot.shellQuoted("train@bn,lr=0.1,seed=0"), "'train@bn,lr=0.1,seed=0'")
        XCTAssertEqual(ReportSnapshot.shellQuoted("fig2"), "fig2")
        XCTAssertEqual(ReportSnapshot.shellQuoted("it's"), "'it'\\''s'")
    }

    func testPNGSizeReadsTheHeader() {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        bytes += [0, 0, 0x05, 0x00, 0, 0, 0x02, 0xD0]
        let size = PNGSize(Data(bytes))
        XCTAssertEqual(size?.width, 1280)
        XCTAssertEqual(size?.height, 720)
        XCTAssertNil(PNGSize(Data("not a png at all, not at all".utf8)))
    }
}
