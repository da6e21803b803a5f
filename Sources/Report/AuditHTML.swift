import Foundation
import Pipeline

/// The last `bnrepro audit` of each up-to-date stage's result: was it computed again with the same
/// outputs, and if not, what differed. A stage whose current result was never audited says so.
struct AuditHTML {
    let snapshot: ReportSnapshot

    /// The audit of a stage's current result, or nil (not up to date, or never audited).
    static func audit(of stage: StageSnapshot, in store: CacheStore) -> StageAudit? {
        guard stage.isCurrent, let record = stage.record else { return nil }
        return store.audit(ofKey: record.key)
    }

    static let timestamp = ISO8601DateFormatter()

    /// One line for a figure's provenance.
    static func line(_ audit: StageAudit?) -> HTML {
        guard let audit else { return "not audited (<code>bnrepro audit STAGE</code> computes it again and compares)" }
        return "\(audit.verdictText), \(timestamp.string(from: audit.audited)) at \(audit.auditThreads) thread\(audit.auditThreads == 1 ? "" : "s")"
    }

    var html: HTML {
        let current = snapshot.stages.filter(\.isCurrent)
        let audits = current.map { AuditHTML.audit(of: $0, in: snapshot.store) }
        let rows: [HTML] = zip(current, audits).map { stage, audit in
            let verdict: HTML = audit.map { "<span class=\"audit \($0.verdict.rawValue)\">\($0.verdictText)</span>" } ?? "not audited"
            let when: HTML = audit.map { "\(AuditHTML.timestamp.string(from: $0.audited))" } ?? "—"
            let threads: HTML = audit.map { "\($0.originalThreads.map(String.init) ?? "?") → \($0.auditThreads)" } ?? "—"
            return "<tr><th scope=\"row\"><code>\(stage.stage.name)</code></th><td>\(verdict)</td><td>\(when)</td><td>\(threads)</td><td>\(AuditHTML.details(audit))</td></tr>"
        }
        let audited = audits.compactMap { $0 }
        let counts = audited.isEmpty ? "none" : StageAudit.tally(audited)
        let table = "<table class=\"sortable\"><caption>The last audit of each up-to-date result</caption><thead><tr><th scope=\"col\">stage</th><th scope=\"col\">verdict</th><th scope=\"col\">audited</th><th scope=\"col\">threads (original → audit)</th><th scope=\"col\">what differed</th></tr></thead><tbody>\(rows)</tbody></table>" as HTML
        return """
        <section id="audit" aria-labelledby="audit-title">
        <h2 id="audit-title">Reproducibility audit</h2>
        <p>\(audited.count) of \(current.count) up-to-date results audited: \(counts). <code>bnrepro audit</code> computes a \
        cached result again from the same inputs and compares every output byte for byte; a difference at another OpenMP thread \
        count than the original's is reported, not counted as a failure.</p>
        \(ScrollingTable.wrap(table, label: "The last audit of each up-to-date result"))
        </section>
        """
    }

    /// The outputs that differed, with what differed, or the error.
    static func details(_ audit: StageAudit?) -> HTML {
        guard let audit else { return "" }
        if let error = audit.error { return "\(error)" }
        let items: [HTML] = audit.outputs.filter { $0.result != .identical }.map { output in
            let what = output.details.isEmpty ? output.result.rawValue.replacingOccurrences(of: "-", with: " ") : output.details.joined(separator: "; ")
            return "<li><code>\(output.name)</code>: \(what)</li>"
        }
        return items.isEmpty ? "" : "<ul>\(items)</ul>"
    }
}
