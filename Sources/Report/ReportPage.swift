import Foundation
import Pipeline

/// The whole report as one self-contained HTML page: summary, DAG, calibration table, one section per
/// figure in the paper's order, and every claim at the end.
public struct ReportPage: Sendable {
    public let snapshot: ReportSnapshot

    public init(snapshot: ReportSnapshot) { self.snapshot = snapshot }

    public var html: HTML {
        let figures = snapshot.figures.map { FigureSection(figure: $0, snapshot: snapshot) }
        return """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
        <title>bnrepro report: Understanding Batch Normalization (profile \(snapshot.pipeline.profile))</title>
        <style>
        \(ReportAssets.css)
        </style>
        </head>
        <body>
        <header>
        <h1>Understanding Batch Normalization (Bjorck et al., NeurIPS 2018), reproduced</h1>
        \(summary(figures))
        </header>
        <main>
        \(dag(figures))
        \(calibration)
        \(figures.map(\.html).joined(separator: "\n"))
        \(AuditHTML(snapshot: snapshot).html)
        \(allClaims)
        </main>
        <script>
        \(ReportAssets.sortScript)
        </script>
        </body>
        </html>

        """
    }

    func summary(_ figures: [FigureSection]) -> HTML {
        let table = snapshot.claims.table
        let iso = ISO8601DateFormatter()
        let (wall, cpu) = snapshot.computeSeconds
        let counts: [HTML] = ["up to date", "stale", "never run", "failed"].map { label in
            let n = snapshot.stages.filter { $0.condition.label == label }.count
            return "<span class=\"state \(label.replacingOccurrences(of: " ", with: "-"))\">\(n) \(label)</span>"
        }
        let commits: [HTML] = snapshot.recordedCommits.map { "<code>\($0.commit)</code> (\($0.stages) stages)" }
        let missing: HTML = snapshot.claims.missing.isEmpty ? ""
            : " Stages not up to date contribute no claims: \(snapshot.claims.missing.joined(separator: ", "))."
        let contents: [HTML] = figures.map { "<li><a href=\"#\($0.figure.stage.name)\">\($0.title)</a> (\($0.figure.condition.label))</li>" }
        return """
        <dl class="summary">
        <dt>Claims</dt><dd><strong>\(table.count(.holds)) hold, \(table.count(.fails)) fail, \(table.count(.inconclusive)) inconclusive, \(table.count(.deferred)) deferred</strong> \
        (of \(table.claims.count); deferred claims need the <code>paper</code> profile's budget). <a href="#all-claims">All claims</a>.\(missing)</dd>
        <dt>Profile</dt><dd><code>\(snapshot.pipeline.profile)</code>\(assignments)</dd>
        <dt>Date</dt><dd>\(iso.string(from: snapshot.generated)) (when this report was made from the cache)</dd>
        <dt>Commit</dt><dd>report made at <code>\(snapshot.commit ?? "unknown (not a git checkout)")</code>; \
        results computed at \(commits.isEmpty ? "—" : commits.joined(separator: ", "))</dd>
        <dt>Compute</dt><dd>wall \(Console.duration(wall)), CPU \(Console.duration(cpu)): summed over the action records of the \
        \(snapshot.stages.filter(\.isCurrent).count) up-to-date stages</dd>
        <dt>Stages</dt><dd>\(counts.joined(separator: " "))</dd>
        \(snapshot.archiveLine)\(snapshot.pulledLine)
        </dl>
        <nav aria-label="Figures"><ol>\(contents)</ol></nav>
        """
    }

    var assignments: HTML {
        snapshot.assignments.isEmpty ? "" : " with " + snapshot.assignments.map { "<code>--set \($0)</code>" as HTML }.joined(separator: ", ")
    }

    func dag(_ figures: [FigureSection]) -> HTML {
        let drawing = DAGDrawing(stages: snapshot.stages, anchors: Set(figures.map(\.figure.stage.name)))
        let rows: [HTML] = snapshot.stages.map { s in
            "<tr><th scope=\"row\"><code>\(s.stage.name)</code></th><td>\(s.stage.kind.name)</td><td><span class=\"state \(s.condition.cssClass)\">\(s.condition.label)</span></td><td>\(DAGDrawing.detail(s.condition))</td></tr>"
        }
        let source = HTML.dataURI(Data(drawing.dotSource.utf8), mediaType: "text/vnd.graphviz")
        return """
        <section id="dag" aria-labelledby="dag-title">
        <h2 id="dag-title">Pipeline</h2>
        <p>Every stage of profile <code>\(snapshot.pipeline.profile)</code> and what it reads, coloured by state: \
        <span class="state up-to-date">up to date</span> <span class="state stale">stale</span> \
        <span class="state never-run">never run</span> <span class="state failed">failed</span>. A figure's box links to its section.</p>
        <div class="scroll">\(drawing.render(label: "The pipeline's stages and their dependencies, coloured by state"))</div>
        <details><summary>The stages as a table</summary>
        \(ScrollingTable.wrap("<table class=\"sortable\"><caption>Stages and their states</caption><thead><tr><th scope=\"col\">stage</th><th scope=\"col\">kind</th><th scope=\"col\">state</th><th scope=\"col\">why</th></tr></thead><tbody>\(rows)</tbody></table>", label: "Stages and their states"))
        </details>
        <p><a href="\(source)" download="pipeline.dot">pipeline.dot</a> — the drawing's Graphviz source (<code>dot -Tsvg pipeline.dot</code> draws it full size).</p>
        </section>
        """
    }

    var calibration: HTML {
        let stage = snapshot.stage("calibration") ?? snapshot.stages.first { $0.stage.kind.name == "calibration" }
        let content: HTML
        if let stage, let record = stage.record, let data = snapshot.object(record, "calibration.md") {
            let stale: HTML = stage.isCurrent ? "" : "<p class=\"note stale\" role=\"note\"><strong>\(stage.condition.label):</strong> this is the table of its last run, which is no longer current.</p>"
            content = stale + MarkdownHTML.render(String(decoding: data, as: UTF8.self), headingOffset: 2,
                                                  tableLabel: "Calibration scores of every set-up")
        } else {
            content = "<p class=\"note never-run\" role=\"note\">The calibration has not run at this profile: <code>\(snapshot.rerunCommand(stage?.stage.name ?? "calibration", force: false))</code>.</p>"
        }
        return """
        <section id="calibration" aria-labelledby="calibration-title">
        <h2 id="calibration-title">Calibration of the set-up</h2>
        \(content)
        </section>
        """
    }

    var allClaims: HTML {
        let table = snapshot.claims.table
        return """
        <section id="all-claims" aria-labelledby="all-claims-title">
        <h2 id="all-claims-title">All claims</h2>
        <p>\(table.summary), from the up-to-date stages (as <code>bnrepro claims</code> prints them; each claim once).</p>
        \(ClaimsTableHTML.render(table.claims, name: "all", caption: "Every claim: the paper's value and ours"))
        </section>
        """
    }
}
