import Foundation
import SmokeProjectSupport

/// Loads HTML pages in headless Chromium, each in an iframe of a given width inside a wrapper page,
/// and reads back what the wrapper's script found: image decoding, overflow, claim rows, plus every
/// console message Chromium logged. The wrapper sits next to the pages so that, with
/// --allow-file-access-from-files, its script may read their documents.
struct PageChecker {
    struct Target: Codable {
        let label: String
        /// A file name in the wrapper's directory.
        let src: String
        let width: Int
    }

    struct ImageFinding: Codable {
        let alt: String
        let complete: Bool
        let naturalWidth: Int
        var decoded: Bool { complete && naturalWidth > 0 }
    }

    struct Findings: Codable {
        let label: String
        let width: Int
        let viewportWidth: Int?
        let scrollWidth: Int?
        let images: [ImageFinding]?
        /// Claim ids per claims table (`data-claims` → the `data-claim` of each row), in page order.
        let tables: [String: [String]]?
        /// The `download` names of the page's links.
        let downloads: [String]?
        /// The all-claims table's aria-sort after a click on its last header ("ascending" when the script works).
        let sortedBy: String?
        let error: String?
        var overflows: Bool { (scrollWidth ?? 0) > (viewportWidth ?? 0) }
        var brokenImages: [ImageFinding] { (images ?? []).filter { !$0.decoded } }
    }

    struct Report {
        let frames: [String: Findings]
        /// Chromium's CONSOLE lines (every console message and uncaught error of every page).
        let consoleLines: [String]
        let seconds: Double
    }

    let chromium: URL
    /// A scratch directory for Chromium's profile (its own per run, so runs never share a lock).
    let scratch: URL

    static func findChromium() -> URL? { CommandRunner.find(["chromium", "chromium-browser", "google-chrome"]) }

    static let wrapperScript = """
    var results = {}, remaining = targets.length;
    function finish() {
      var out = document.getElementById('findings');
      out.textContent = btoa(unescape(encodeURIComponent(JSON.stringify(results))));
      out.setAttribute('data-done', 'yes');
    }
    function list(nodes) { return Array.prototype.slice.call(nodes); }
    targets.forEach(function (t) {
      var frame = document.createElement('iframe');
      frame.style.width = t.width + 'px';
      frame.style.height = '900px';
      frame.style.border = '0';
      frame.addEventListener('load', function () {
        var r = {label: t.label, width: t.width};
        try {
          var d = frame.contentDocument, root = d.documentElement;
          r.viewportWidth = root.clientWidth;
          r.scrollWidth = Math.max(root.scrollWidth, d.body ? d.body.scrollWidth : 0);
          r.images = list(d.images).map(function (img) { return {alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth}; });
          r.tables = {};
          list(d.querySelectorAll('table[data-claims]')).forEach(function (table) {
            r.tables[table.getAttribute('data-claims')] = list(table.querySelectorAll('tbody tr[data-claim]')).map(function (tr) { return tr.getAttribute('data-claim'); });
          });
          r.downloads = list(d.querySelectorAll('a[download]')).map(function (a) { return a.getAttribute('download'); });
          // The sort script ran if clicking a header sorted its table.
          var header = d.querySelector('table[data-claims="all"] thead th:last-child'), button = header && header.querySelector('button');
          if (button) { button.click(); r.sortedBy = header.getAttribute('aria-sort'); }
        } catch (e) { r.error = String(e); }
        results[t.label] = r;
        if (--remaining === 0) finish();
      });
      frame.src = t.src;
      document.body.appendChild(frame);
    });
    """

    /// Writes the wrapper beside the pages, loads it, and returns what it found for every target.
    func check(_ targets: [Target], in directory: URL) throws -> Report {
        let wrapper = directory.appendingPathComponent("check-\(UUID().uuidString.prefix(8)).html")
        let json = String(decoding: try JSONEncoder().encode(targets), as: UTF8.self)
        let page = """
        <!doctype html><html><head><meta charset="utf-8"><title>report check</title></head><body>
        <pre id="findings">pending</pre>
        <script>var targets = \(json);
        \(Self.wrapperScript)</script></body></html>
        """
        try Data(page.utf8).write(to: wrapper)
        defer { try? FileManager.default.removeItem(at: wrapper) }
        let started = Date()
        let result = try chromium(["--allow-file-access-from-files", "--enable-logging=stderr", "--v=0",
                                   "--virtual-time-budget=20000", "--window-size=1400,1000", "--dump-dom", wrapper.absoluteString])
        let seconds = Date().timeIntervalSince(started)
        guard !result.timedOut else { throw SmokeFailure(message: "chromium timed out on \(wrapper.path)") }
        guard let start = result.stdout.range(of: "<pre id=\"findings\" data-done=\"yes\">"),
              let end = result.stdout.range(of: "</pre>", range: start.upperBound..<result.stdout.endIndex),
              let data = Data(base64Encoded: String(result.stdout[start.upperBound..<end.lowerBound])) else {
            throw SmokeFailure(message: "the wrapper page did not finish (status \(result.status)); DOM:\n\(result.stdout.prefix(2000))\nstderr:\n\(result.stderr.suffix(3000))")
        }
        let findings = try JSONDecoder().decode([String: Findings].self, from: data)
        let console = result.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return Report(frames: findings, consoleLines: console, seconds: seconds)
    }

    /// A screenshot of a page at a window size.
    func screenshot(_ page: URL, to png: URL, width: Int, height: Int) throws {
        let result = try chromium(["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(png.path)", page.absoluteString])
        guard FileManager.default.fileExists(atPath: png.path) else {
            throw SmokeFailure(message: "chromium wrote no screenshot (status \(result.status)): \(result.stderr.suffix(2000))")
        }
    }

    private func chromium(_ arguments: [String]) throws -> CommandRunner.Result {
        let profile = scratch.appendingPathComponent("profile-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try CommandRunner.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                                "--user-data-dir=\(profile.path)"] + arguments, timeout: 90)
    }
}
