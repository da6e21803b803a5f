import ArgumentParser
import Foundation
import Pipeline
import Report

struct EstimateCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "What the stages that are not cached will cost: CPU time and peak memory per stage, the total, the critical path and the wall time.",
        discussion: """
        Each network stage's work is counted from its params (images × epochs × depth for training) and priced \
        in seconds per image-layer measured on this machine: from the cache's records of the same kind, else of \
        any network kind, else from a few training steps of the engine (about 10 s). Other stages cost what \
        their kind's records say, or 5 s without one. Stages run one thread each, so wall = CPU per stage; \
        the run's wall time is simulated on -j slots, and the critical path is what an unlimited cluster \
        would still need. A stage's peak memory is the largest peak resident memory among the cache's records \
        of its kind with the same params, else with any params, which is only a hint: a deeper network, a larger \
        batch or more data needs more. Without a record of the kind it is unknown (—); nothing is guessed.
        """)

    @OptionGroup var options: PipelineOptions
    @Argument(help: "Stages, matrix groups or figures (default: everything).") var targets: [String] = []
    @Option(name: .short, help: "Stages at once, for the wall-time estimate (default: the cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Only the totals.") var summary = false

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let estimate = try CostEstimate(pipeline: pipeline, store: try options.cacheStore(), registry: registry, targets: targets)
        if !summary { EstimateTable(estimate).print() }
        Swift.print(EstimateTable(estimate).summary(jobs: jobs))
    }
}

/// The estimate as `estimate` and `run --dry-run` print it.
struct EstimateTable {
    let estimate: CostEstimate
    init(_ estimate: CostEstimate) { self.estimate = estimate }

    func print() {
        let table = [["stage", "kind", "CPU", "basis", "peak mem", "mem basis"]] + estimate.rows.map { row in
            [row.stage, row.kind, Console.duration(row.cpuSeconds), row.basis, row.peakMemoryBytes.map(ByteCount.text) ?? "—",
             memoryBasis(row)]
        }
        Swift.print(TextTable.render(table, rightAligned: [2, 4], indent: "  "))
        Swift.print("  peak mem: the largest peak resident memory among the records of the stage's kind with the same params, "
                    + "else with any params (a hint only: a deeper network, larger batch or more data needs more); "
                    + "— where no record of the kind has one")
    }

    private func memoryBasis(_ row: CostEstimate.Row) -> String {
        guard row.memoryRecords > 0 else { return "none recorded" }
        return "\(row.memorySameParams ? "same" : "other") params, max of \(row.memoryRecords)"
    }

    func summary(jobs: Int) -> String {
        let path = estimate.criticalPath, cpu = estimate.totalCPU
        let days = cpu >= 86_400 ? String(format: " (%.1f CPU-days)", cpu / 86_400) : ""
        let guesses = estimate.rows.filter { $0.basis == "no record" }.count
        return "estimate: \(estimate.rows.count) stages to run, CPU \(Console.duration(cpu))\(days); "
            + "wall about \(Console.duration(estimate.wallSeconds(jobs: jobs))) at -j \(jobs); "
            + "critical path \(Console.duration(path.seconds)) (\(path.stages.count) stages, ending at \(path.stages.last ?? "-"))"
            + (guesses > 0 ? "; \(guesses) without a record counted as \(Int(CostEstimate.unknownSeconds)) s each" : "")
            + memory
    }

    /// What one job's memory must cover, from the stages whose kind has a recorded peak.
    private var memory: String {
        let unknown = estimate.rows.filter { $0.peakMemoryBytes == nil }.count
        let of = unknown > 0 ? "; \(unknown) with unknown peak memory" : ""
        guard let row = estimate.largestPeakMemory, let bytes = row.peakMemoryBytes else { return of }
        return "; largest peak memory \(ByteCount.text(bytes)) (\(row.stage), \(memoryBasis(row)))" + of
    }
}
