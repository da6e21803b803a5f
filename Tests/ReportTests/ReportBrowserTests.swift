import Foundation
import SmokeProjectSupport
import Report
import XCTest

/// The report of a smoke-profile run, rendered in headless Chromium: no console errors, every image
/// decodes, each claims table has a row per claim, and no horizontal overflow at 1280 and 390 px. Then
/// the same checks on spoiled copies, to show they catch what they look for. Screenshots and the
/// report are kept under .build/report-artifacts/.
final class ReportBrowserTests: XCTestCase {
    /// One smoke run and one report for the class (the run is the slow part).
    nonisolated(unsafe) static var fixture: Swift.Result<(cache: SmokeCache, report: URL), Error>?

    static var artifacts: URL { SmokeCache.repository.appendingPathComponent(".build/report-artifacts") }

    func smokeReport() throws -> (cache: SmokeCache, report: URL) {
        if Self.fixture == nil {
            Self.fixture = Swift.Result {
                let cache = try SmokeCache.run("bnrepro-report-smoke")
                let report = cache.directory.appendingPathComponent("report/index.html")
                let result = try cache.bnrepro(["report"])
                guard result.status == 0 else { throw SmokeFailure(message: "bnrepro report failed: \(result.stdout)\(result.stderr)") }
                return (cache, report)
            }
        }
        return try XCTUnwrap(Self.fixture).get()
    }

    override class func tearDown() {
        if case .success(let fixture)? = fixture { try? FileManager.default.removeItem(at: fixture.cache.directory) }
        fixture = nil
    }

    func checker() throws -> PageChecker {
        guard let chromium = PageChecker.findChromium() else {
            throw SmokeFailure(message: "chromium is not installed; run `make deps` (it installs chromium and graphviz)")
        }
        return PageChecker(chromium: chromium, scratch: FileManager.default.temporaryDirectory)
    }

    func testSmokeReportLoadsCleanlyDecodesEveryImageHasEveryClaimAndFitsPhoneAndDesktop() throws {
        let checker = try checker()
        let (cache, report) = try smokeReport()
        let dir = report.deletingLastPathComponent()
        let found = try checker.check([.init(label: "desktop", src: "index.html", width: 1280),
                                       .init(label: "phone", src: "index.html", width: 390)], in: dir)
        print("chromium checked the report at 1280 and 390 px in \(String(format: "%.1f", found.seconds)) s")
        XCTAssertEqual(found.consoleLines, [], "the report logged to the console")

        let ids = try cache.claimIDs()
        let figures = ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "calibration-figure", "appH", "appE", "appK"]
        let claimsRun = try cache.bnrepro(["claims"])
        let total = try XCTUnwrap(claimsRun.stdout.split(separator: "\n").last { $0.contains(" claims: ") }
            .flatMap { Int($0.split(separator: ":")[1].split(separator: " ")[0]) }, claimsRun.stdout)
        for label in ["desktop", "phone"] {
            let frame = try XCTUnwrap(found.frames[label], label)
            XCTAssertNil(frame.error, label)
            XCTAssertFalse(frame.overflows, "\(label): the page is \(frame.scrollWidth ?? -1) px wide in a \(frame.viewportWidth ?? -1) px viewport")
            let images = frame.images ?? []
            XCTAssertGreaterThanOrEqual(images.count, figures.count, "\(label): one image per figure at least")
            XCTAssertEqual(frame.brokenImages.map(\.alt), [], "\(label): images that did not decode")
            XCTAssertTrue(images.allSatisfy { $0.alt.count > 20 }, "\(label): every image says what it shows")
            for figure in figures {
                XCTAssertEqual(frame.tables?[figure], try XCTUnwrap(ids[figure], figure), "\(label): \(figure)'s claims table")
            }
            let all = frame.tables?["all"] ?? []
            XCTAssertEqual(all.count, total, "\(label): the all-claims table has a row per claim of `bnrepro claims`")
            XCTAssertEqual(Set(all), Set(ids.values.joined()), label)
            XCTAssertEqual(frame.sortedBy, "ascending", "\(label): the sort script ran")
            for figure in figures {
                XCTAssertTrue(frame.downloads?.contains("\(figure)-claims.csv") == true, "\(label): \(figure)'s claims CSV")
            }
        }

        // Each figure's claims CSV holds a header and a row per claim; every download is a CSV with data.
        let page = try String(contentsOf: report, encoding: .utf8)
        let downloads = Self.csvDownloads(page)
        XCTAssertGreaterThan(downloads.count, figures.count, "claims plus analysis data")
        for (name, csv) in downloads {
            XCTAssertGreaterThanOrEqual(csv.split(separator: "\n").count, 2, "\(name) has a header and data")
        }
        for figure in figures {
            let csv = try XCTUnwrap(downloads.first { $0.name == "\(figure)-claims.csv" }?.csv, figure)
            XCTAssertEqual(CSVText.parse(csv).count, 1 + (ids[figure]?.count ?? 0), figure)
        }

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        for (width, height) in [(1280, 2400), (390, 2400)] {
            let png = Self.artifacts.appendingPathComponent("report-\(width).png")
            try? FileManager.default.removeItem(at: png)
            try checker.screenshot(report, to: png, width: width, height: height)
        }
        try? FileManager.default.removeItem(at: Self.artifacts.appendingPathComponent("index.html"))
        try FileManager.default.copyItem(at: report, to: Self.artifacts.appendingPathComponent("index.html"))
    }

    /// The CSV links of a page: `download` name and decoded text.
    static func csvDownloads(_ page: String) -> [(name: String, csv: String)] {
        let prefix = "<a href=\"data:text/csv;charset=utf-8;base64,"
        return page.components(separatedBy: prefix).dropFirst().compactMap { chunk in
            guard let quote = chunk.firstIndex(of: "\""), let data = Data(base64Encoded: String(chunk[..<quote])),
                  let name = chunk.components(separatedBy: "download=\"").dropFirst().first?.prefix(while: { $0 != "\"" }) else { return nil }
            return (String(name), String(decoding: data, as: UTF8.self))
        }
    }

    /// The checks can fail: a corrupted image, an element wider than the phone, and a script error are each caught.
    func testCheckerCatchesABrokenImageAWideElementAndAConsoleError() throws {
        let checker = try checker()
        let (_, report) = try smokeReport()
        let dir = report.deletingLastPathComponent()
        let page = try String(contentsOf: report, encoding: .utf8)
        let png = "data:image/png;base64,"
        let broken = try XCTUnwrap(page.range(of: png), "the report has no inlined PNG")
        try Data(page.replacingCharacters(in: broken, with: png + "AAAA").utf8).write(to: dir.appendingPathComponent("broken.html"))
        try Data(page.replacingOccurrences(of: "<main>", with: "<main><div style=\"width: 2000px\">wide</div>").utf8)
            .write(to: dir.appendingPathComponent("wide.html"))
        try Data(page.replacingOccurrences(of: "</main>", with: "</main><script>undefinedFunctionOnPurpose()</script>").utf8)
            .write(to: dir.appendingPathComponent("noisy.html"))

        let found = try checker.check([.init(label: "broken", src: "broken.html", width: 1280),
                                       .init(label: "wide", src: "wide.html", width: 390),
                                       .init(label: "noisy", src: "noisy.html", width: 1280)], in: dir)
        let brokenFrame = try XCTUnwrap(found.frames["broken"])
        XCTAssertEqual(brokenFrame.brokenImages.count, 1, "the corrupted image is reported, and only it")
        XCTAssertFalse(brokenFrame.overflows)
        let wide = try XCTUnwrap(found.frames["wide"])
        XCTAssertTrue(wide.overflows, "a 2000 px element in a 390 px viewport: \(wide.scrollWidth ?? -1) px")
        XCTAssertEqual(wide.brokenImages.count, 0)
        XCTAssertTrue(found.consoleLines.contains { $0.contains("undefinedFunctionOnPurpose") && $0.contains("noisy.html") },
                      "the script error is in Chromium's console log: \(found.consoleLines)")
        XCTAssertFalse(found.consoleLines.contains { $0.contains("broken.html") || $0.contains("wide.html") }, "\(found.consoleLines)")
    }
}
