import Foundation
import Pipeline

/// A CSV the reader can download from the page: built from real outputs only, and its label says which.
public struct DataDownload: Sendable {
    public let fileName: String
    public let label: String
    public let csv: String
}

/// The numbers behind a figure: its claims, and the tables its analysis stages wrote. An analysis that
/// wrote CSV gives its CSV (a matrix's members merged, with a `stage` column); one that wrote only
/// JSON gives its result file flattened to `path,value` rows.
public enum FigureData {
    /// Larger files are not inlined (the page must stay attachable to an e-mail); the note says how to get them.
    public static let inlineLimit = 4 << 20

    public static func downloads(figure: StageSnapshot, claims: [Claim], in snapshot: ReportSnapshot) -> (files: [DataDownload], notes: [String]) {
        let name = figure.stage.name
        var files = [DataDownload(fileName: "\(name)-claims.csv",
                                  label: "Claims of \(name): \(count(claims.count, "row")), from its claims.json",
                                  csv: CSVText.rows(claimRows(claims)))]
        var notes: [String] = []
        var groups: [(group: String, members: [StageSnapshot])] = []
        for dep in figure.stage.deps {
            guard let member = snapshot.stage(dep) else { continue }
            if let i = groups.firstIndex(where: { $0.group == member.stage.group }) { groups[i].members.append(member) }
            else { groups.append((member.stage.group, [member])) }
        }
        for (group, members) in groups {
            let ran = members.filter { $0.record != nil }
            if ran.isEmpty { notes.append("\(group) has no result in the cache yet."); continue }
            let stale = ran.filter { !$0.isCurrent }.count
            let staleNote = stale == 0 ? "" : "; \(stale) of them from a run that is no longer current"
            let tables = tablesOf(ran, group: group, extensions: ["csv"], in: snapshot)
            let chosen = tables.isEmpty ? tablesOf(ran, group: group, extensions: ["json"], in: snapshot) : tables
            for table in chosen {
                let csv = CSVText.rows(table.rows)
                let stem = table.fileStem.hasPrefix(group) ? table.fileStem : "\(group)-\(table.fileStem)"
                let file = DataDownload(fileName: "\(name)-\(stem).csv",
                                        label: table.label + ": " + count(table.rows.count - 1, "row") + staleNote, csv: csv)
                if csv.utf8.count > inlineLimit {
                    notes.append("\(table.label) is \(csv.utf8.count / 1_000_000) MB, too large to inline; `bnrepro cat` prints it.")
                } else {
                    files.append(file)
                }
            }
        }
        return (files, notes)
    }

    static func claimRows(_ claims: [Claim]) -> [[String]] {
        [["id", "figure", "claim", "paper", "source", "ours", "note", "test", "holds"]]
            + claims.map { [$0.id, $0.figure, $0.statement, $0.paper, $0.source, $0.ours, $0.note ?? "", $0.test, $0.verdictText] }
    }

    struct Table {
        let fileStem: String
        let label: String
        let rows: [[String]]
    }

    /// One table per output name and header: a single stage's file as written, a matrix's merged.
    static func tablesOf(_ members: [StageSnapshot], group: String, extensions: Set<String>, in snapshot: ReportSnapshot) -> [Table] {
        var order: [String] = []
        var byName: [String: [(stage: String, rows: [[String]])]] = [:]
        for member in members {
            guard let record = member.record else { continue }
            for output in record.outputs.keys.sorted() where output != ClaimsFile.fileName {
                let ext = (output as NSString).pathExtension
                guard extensions.contains(ext), let data = snapshot.object(record, output) else { continue }
                let rows: [[String]]
                if ext == "csv" { rows = CSVText.parse(String(decoding: data, as: UTF8.self)) }
                else if let value = try? JSONParser.parse(data) { rows = CSVText.flattened(value) }
                else { continue }
                guard rows.count > 1 else { continue }
                let id = "\(output)\u{1}\(rows[0].joined(separator: ","))"
                if byName[id] == nil { order.append(id) }
                byName[id, default: []].append((member.stage.name, rows))
            }
        }
        return order.compactMap { id -> Table? in
            guard let parts = byName[id], let first = parts.first else { return nil }
            let output = String(id.prefix { $0 != "\u{1}" })
            let stem = (output as NSString).deletingPathExtension + (output.hasSuffix(".json") ? "-flattened" : "")
            let how = output.hasSuffix(".json") ? ", flattened to path,value rows" : " as the stage wrote it"
            if parts.count == 1 {
                return Table(fileStem: stem, label: "\(output) of stage \(first.stage)\(how)", rows: first.rows)
            }
            let rows = [["stage"] + first.rows[0]] + parts.flatMap { part in part.rows.dropFirst().map { [part.stage] + $0 } }
            let merged = output.hasSuffix(".json") ? how + ", merged with a stage column" : ", merged with a stage column"
            return Table(fileStem: stem, label: "\(output) of the \(parts.count) \(group) stages\(merged)", rows: rows)
        }
    }

    static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }
}
