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
        any network kind, else from a few training steps of the engine (about 10 s); records of the stage's own \
        params come first. Other stages cost what their kind's records say, or 5 s without one. A kind with \
        records made with more threads only (a -j 1 run) counts each as its wall time × the engine's speedup \
        at its thread count, measured now, since its CPU time also counts spinning threads. CPU is priced \
        at one thread per stage, what -j = cores gives each stage, and then wall = CPU per stage. With fewer \
        jobs each stage gets more threads (cores / -j, or OMP_NUM_THREADS), and an engine stage's wall is its \
        CPU over the engine's speedup at that count, measured now with a few training steps (about 10 s). \
        The run's wall time is simulated on -j slots, and the critical path is what an unlimited cluster \
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
        let estimate = try CostEstimate(pipeline: pipeline, store: try options.cacheStore(), registry: registry, targets: targets,
                                        threads: LocalExecutor.threadsPerStage(jobs: jobs))
        if !summary { EstimateTable(estimate).print() }
        Swift.print(EstimateTable(estimate).summary(jobs: jobs))
    }
}

/// The estimate as `estimate` and `run --dry-run` print it.
struct EstimateTable {
    let estimate: CostEstimate
    init(_ estimate: CostEstimate) { self.estimate = estimate }

    func print() {
        let table = [["stage", "kind", "CPU", "basis", "wall", "peak mem", "mem basis"]] + estimate.rows.map { row in
            [row.stage, row.kind, Console.duration(row.cpuSeconds), row.basis, Console.duration(row.wallSeconds),
             row.peakMemoryBytes.map(ByteCount.text) ?? "—", memoryBasis(row)]
        }
        Swift.print(TextTable.render(table, rightAligned: [2, 4, 5], indent: "  "))
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
        return "estimate: \(estimate.rows.count) stages to run, CPU \(Console.duration(cpu))\(days) at 1 thread per stage; "
            + "wall \(estimate.speedup == nil ? "at most" : "about") \(Console.duration(estimate.wallSeconds(jobs: jobs))) at -j \(jobs)"
            + threadsNote + "; "
            + "critical path \(Console.duration(path.seconds)) (\(path.stages.count) stages, ending at \(path.stages.last ?? "-"))"
            + (guesses > 0 ? "; \(guesses) without a record counted as \(Int(CostEstimate.unknownSeconds)) s each" : "")
            + memory
    }

    /// The threads each stage gets, and what they were counted as.
    private var threadsNote: String {
        guard estimate.threads > 1 else { return "" }
        guard let speedup = estimate.speedup else {
            return " (\(estimate.threads) threads per stage, whose speedup was not measured: one thread's time)"
        }
        return String(format: " (%d threads per stage: the engine %.2f× faster than with one, measured now)", estimate.threads, speedup)
    }

    /// What one job's memory must cover, from the stages whose kind has a recorded peak.
    private var memory: String {
        let unknown = estimate.rows.filter { $0.peakMemoryBytes == nil }.count
        let of = unknown > 0 ? "; \(unknown) with unknown peak memory" : ""
        guard let row = estimate.largestPeakMemory, let bytes = row.peakMemoryBytes else { return of }
        return "; largest peak memory \(ByteCount.text(bytes)) (\(row.stage), \(memoryBasis(row)))" + of
    }
}
