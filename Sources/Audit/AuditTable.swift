import Foundation
import Pipeline

/// The audit as text: one line per stage (verdict, stage, key, threads then and now, time), the
/// outputs that differ with what differs inside them, then a count per verdict.
public enum AuditTable {
    public static func render(_ audits: [StageAudit], notUpToDate: [String]) -> String {
        let rows = [["verdict", "stage", "key", "threads", "time"]] + audits.map { audit in
            [audit.verdictText, audit.stage, "[\(audit.key.prefix(12))]",
             "\(audit.originalThreads.map(String.init) ?? "?")→\(audit.auditThreads)", Console.duration(audit.wallSeconds)]
        }
        let rendered = TextTable.lines(rows, indent: "  ")
        var lines = [rendered[0]]
        for (audit, line) in zip(audits, rendered.dropFirst()) {
            lines.append(line)
            if let error = audit.error { lines.append("      error: \(error)") }
            for output in audit.outputs where output.result != .identical {
                let what: String
                switch output.result {
                case .onlyCached: what = "only in the cached result"
                case .onlyRecomputed: what = "only in the recomputed result"
                default: what = output.details.count == 1 ? output.details[0] : "differs"
                }
                lines.append("      - \(output.name): \(what)")
                if output.details.count > 1 { lines += output.details.map { "          \($0)" } }
            }
        }
        lines.append("\(audits.count) stage\(audits.count == 1 ? "" : "s") audited: " + StageAudit.tally(audits))
        if !notUpToDate.isEmpty {
            lines.append("not audited, not up to date (\(notUpToDate.count)): " + notUpToDate.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
