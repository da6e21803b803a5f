import Foundation
import Pipeline

/// `status --times`: the wall and CPU time and peak memory each up-to-date stage took when it was
/// computed (its action record), longest first. The wall times add up to more than a parallel run's
/// duration; the table says where the work is, the run's own summary how long it took.
struct StageTimes {
    struct Row { let stage: String, kind: String, wall: Double, cpu: Double, peakMemory: Int64? }
    let rows: [Row]
    let notUpToDate: Int

    init(_ states: [(stage: ResolvedStage, state: StatusReport.State)], store: CacheStore) {
        var rows: [Row] = [], missing = 0
        for (stage, state) in states {
            guard case .upToDate(let key) = state, let record = store.record(key) else { missing += 1; continue }
            rows.append(Row(stage: stage.name, kind: stage.kind.name, wall: record.wallSeconds, cpu: record.cpuSeconds,
                            peakMemory: record.peakMemoryBytes))
        }
        self.rows = rows.sorted { ($0.wall, $1.stage) > ($1.wall, $0.stage) }
        notUpToDate = missing
    }

    func print() {
        // Records from before peak memory was kept have none; the column appears once any record has it.
        let memory = rows.contains { $0.peakMemory != nil }
        let table = [["stage", "kind", "wall", "CPU", "CPU/wall"] + (memory ? ["peak mem"] : [])] + rows.map { r in
            [r.stage, r.kind, Console.duration(r.wall), Console.duration(r.cpu), String(format: "%.2f", r.wall > 0 ? r.cpu / r.wall : 0)]
                + (memory ? [r.peakMemory.map(Format.bytes) ?? "—"] : [])
        }
        Swift.print(TextTable.render(table, rightAligned: [2, 3, 4, 5], indent: "  "))
        let wall = rows.reduce(0) { $0 + $1.wall }, cpu = rows.reduce(0) { $0 + $1.cpu }
        Swift.print("\(rows.count) up-to-date stages: wall \(Console.duration(wall)) summed, CPU \(Console.duration(cpu))"
                    + (notUpToDate > 0 ? "; \(notUpToDate) not up to date (no time counted)" : ""))
    }
}
