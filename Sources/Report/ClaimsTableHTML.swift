import Foundation
import Pipeline

/// The claims as an HTML table, the same columns as tables/claims.md: figure | claim | paper | ours |
/// test | holds. Each row carries its claim id (`data-claim`), which the browser test counts.
public enum ClaimsTableHTML {
    public static func render(_ claims: [Claim], name: String, caption: String) -> HTML {
        guard !claims.isEmpty else { return "<p>No claims recorded.</p>" }
        let rows: [HTML] = claims.map { c in
            let note: HTML = c.note.map { "<br><small>\($0)</small>" } ?? ""
            return """
            <tr data-claim="\(c.id)" class="\(c.verdict.rawValue)"><td>\(c.figure)</td><th scope="row">\(c.statement)</th>\
            <td>\(c.paper)<br><small>\(c.source)</small></td><td>\(c.ours)\(note)</td><td>\(c.test)</td>\
            <td class="verdict">\(symbol(c.verdict)) \(c.verdictText)</td></tr>
            """
        }
        let head: [HTML] = ["figure", "claim", "paper", "ours", "test", "holds"].map { "<th scope=\"col\">\($0)</th>" }
        return ScrollingTable.wrap("""
            <table class="sortable claims" data-claims="\(name)"><caption>\(caption)</caption>\
            <thead><tr>\(head)</tr></thead><tbody>\(rows)</tbody></table>
            """, label: caption)
    }

    /// A shape beside the word, so the verdict does not rest on colour.
    static func symbol(_ verdict: Claim.Verdict) -> String {
        switch verdict {
        case .holds: return "✓"
        case .fails: return "✗"
        case .deferred: return "…"
        case .inconclusive: return "?"
        }
    }
}
