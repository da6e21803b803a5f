import ArgumentParser
import Foundation
import Cluster
import Pipeline

struct StatusCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Every stage: up to date, never run, or stale and why.",
        discussion: """
        With --times: where the time of the up-to-date stages went, from their action records.
        Stages of a detached Slurm campaign (`run --executor slurm --detach`) that are not up to date yet
        say how their job stands, from the jobs' status files and squeue (sacct where accounting works).
        """)

    @OptionGroup var options: PipelineOptions
    @Flag(help: "A table of the up-to-date stages' wall and CPU time, longest first, with the total.") var times = false

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.cacheStore()
        let report = StatusReport(pipeline: pipeline, store: store)
        print("profile: \(pipeline.profile)")
        if times { return StageTimes(report.states(), store: store).print() }
        let campaigns = CampaignReport(store: store)
        let attempts = store.lastUnsuccessfulAttempts()
        /// A stage that is not up to date: what its latest attempt since its last success came to.
        func lastAttempt(_ stage: String) {
            let lastSuccess = store.lastKey(ofStage: stage).flatMap(store.anyRecord)?.finished ?? .distantPast
            guard let attempt = attempts[stage], attempt.finished > lastSuccess else { return }
            let verb = attempt.status == .interrupted ? "interrupted" : "failed"
            print("                - last run \(verb) \(Format.age(attempt.finished)): \(attempt.error ?? "unknown")")
        }
        var counts = (fresh: 0, never: 0, stale: 0, unreadable: 0)
        for (stage, state) in report.states() {
            switch state {
            case .upToDate(let key):
                counts.fresh += 1
                print("  up to date  \(stage.name)  [\(key.prefix(12))]")
            case .neverRun:
                counts.never += 1
                print("  never run   \(stage.name)")
                lastAttempt(stage.name)
                if let job = campaigns.line(for: stage.name) { print("                - \(job)") }
            case .stale(let reasons):
                counts.stale += 1
                print("  stale       \(stage.name)")
                for reason in reasons { print("                - \(reason)") }
                lastAttempt(stage.name)
                if let job = campaigns.line(for: stage.name) { print("                - \(job)") }
            case .unreadable(let key, let reason):
                counts.unreadable += 1
                print("  unreadable  \(stage.name)  [\(key.prefix(12))]")
                print("                - \(reason)")
            }
        }
        print("\(counts.fresh) up to date, \(counts.stale) stale, \(counts.never) never run"
              + (counts.unreadable > 0 ? ", \(counts.unreadable) with an unreadable record (`bnrepro verify` lists them)" : ""))
        for line in campaigns.linesToPrint { print(line) }
    }
}
