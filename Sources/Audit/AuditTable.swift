import Foundation
import Pipeline

/// The audit as text: one line per stage (verdict, stage, key, threads then and now, time), the
/// outputs that differ with what differs inside them, then a count per verdict.
public enum AuditTable {
    public static func render(_ audits: [StageAudit], notUpToDate: [String]) -> String {
        let verdictWidth = max(7, audits.map(\.verdictText.count).max() ?? 0)
        let stageWidth = max(5, audits.map(\.stage.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var lines = ["  " + pad("verdict", verdictWidth) + "  " + pad("stage", stageWidth) + "  key           threads  time"]
        for audit in audits {
            let threads = "\(audit.originalThreads.map(String.init) ?? "?")→\(audit.auditThreads)"
            lines.append("  " + pad(audit.verdictText, verdictWidth) + "  " + pad(audit.stage, stageWidth) + "  [\(audit.key.prefix(12))]  "
                         + pad(threads, 7) + "  " + Console.duration(audit.wallSeconds))
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
        let counts: [(String, Int)] = [
            ("identical", audits.filter { $0.verdict == .identical }.count),
            ("differ", audits.filter { $0.verdict == .differs }.count),
            ("differ only with the thread count", audits.filter { $0.verdict == .differsWithThreads }.count),
            ("could not run", audits.filter { $0.verdict == .couldNotRun }.count),
        ]
        lines.append("\(audits.count) stage\(audits.count == 1 ? "" : "s") audited: "
                     + counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }.joined(separator: ", "))
        if !notUpToDate.isEmpty {
            lines.append("not audited, not up to date (\(notUpToDate.count)): " + notUpToDate.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
