import ArgumentParser
import Foundation
import Pipeline

struct ShowCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One stage: params, key, inputs, outputs, timings and the tail of its log.",
        discussion: "Example: bnrepro show 'train@bn=false,lr=0.0001'")

    @OptionGroup var options: PipelineOptions
    @Argument(help: "The stage name.") var stage: String
    @Option(help: "Lines of log to print.") var logLines = 20

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.cacheStore()
        guard let target = pipeline.stage(stage) else {
            let members = try pipeline.select(stage)
            throw ValidationError("'\(stage)' is a matrix of \(members.count) stages; show one of: " + members.map(\.name).joined(separator: ", "))
        }
        let states = StatusReport(pipeline: pipeline, store: store).states()
        guard let state = states.first(where: { $0.stage.name == stage })?.state else { throw PipelineError.notCached(stage: stage) }
        print("stage    \(target.name)")
        print("kind     \(target.kind.name) (version \(target.version))")
        if let d = target.description { print("about    \(d)") }
        print("deps     \(target.deps.isEmpty ? "none" : target.deps.joined(separator: ", "))")
        print("params   \(JSONValue.object(target.params).prettyText().replacingOccurrences(of: "\n", with: "\n         "))")
        var record: ActionRecord?
        switch state {
        case .upToDate(let key):
            print("status   up to date\nkey      \(key)")
            record = store.record(key)
        case .neverRun:
            print("status   never run")
        case .unreadable(let key, let reason):
            print("status   \(reason)\nkey      \(key)")
        case .stale(let reasons):
            print("status   stale: " + reasons.joined(separator: "; "))
            if let last = store.lastKey(ofStage: stage) {
                let read = store.recordState(last)
                if let r = read.record {
                    print("(showing its last successful run, key \(last))")
                    record = r
                } else if let problem = read.problem {
                    print("last run key \(last): \(problem)")
                }
            }
        }
        if let record { describe(record, store: store) }
        if let attempt = store.unsuccessfulAttempt(ofStage: stage, since: record?.finished) {
            let when = ISO8601DateFormatter().string(from: attempt.finished) + " (\(Format.age(attempt.finished)))"
            print(attempt.status == .interrupted ? "last run interrupted at \(when): \(attempt.error ?? "by a signal"); nothing of it was kept"
                                                 : "last failure at \(when): \(attempt.error ?? "unknown")")
            if attempt.status == .failed, attempt.log == nil {
                print("log      (none: the worker could not store it; the error above is what it reported)")
            } else if attempt.status == .failed {
                printLog(attempt.log, store: store)
            }
        }
    }

    private func describe(_ r: ActionRecord, store: CacheStore) {
        if !r.inputs.isEmpty {
            print("inputs")
            for input in r.inputs {
                for (name, ref) in input.outputs.sorted(by: { $0.key < $1.key }) {
                    print("  \(input.stage):\(name)  \(Format.bytes(ref.size))  \(ref.digest.prefix(16))")
                }
            }
        }
        print("outputs")
        for (name, ref) in r.outputs.sorted(by: { $0.key < $1.key }) {
            print("  \(name)  \(Format.bytes(ref.size))  \(ref.digest)\(store.has(ref) ? "" : "  (MISSING)")")
        }
        let iso = ISO8601DateFormatter()
        print("ran      \(iso.string(from: r.started)) → \(iso.string(from: r.finished)) (\(Format.age(r.finished)))")
        print(String(format: "time     wall %.2fs, cpu %.2fs", r.wallSeconds, r.cpuSeconds)
              + (r.peakMemoryBytes.map { ", peak memory \(Format.bytes($0))" } ?? ""))
        print("where    \(r.host), executor \(r.executor), commit \(r.gitCommit ?? "unknown"), "
              + (r.threads.map { "\($0) OpenMP thread\($0 == 1 ? "" : "s")" } ?? "threads not recorded")
              + (r.cpuModel.map { ", CPU \($0)" } ?? ""))
        if let plan = r.enginePlan { print("engine   \(Self.describe(enginePlan: plan))") }
        if let digest = r.sourceDigest { print("source   digest \(digest) (the source lock of the binary that computed it)") }
        if let origin = store.origin(ofKey: r.key) {
            let host = URL(string: origin.url)?.host ?? origin.url
            print("from     remote '\(origin.remote)' (\(host): \(origin.url)), pulled \(Format.age(origin.pulled)); "
                  + "computed on \(r.host) at commit \(r.gitCommit ?? "unknown")")
        }
        printLog(r.log, store: store)
    }

    /// "nChw8c; 14 convolutions: jit:avx2 ×12, jit_1x1:avx2 ×2" from a record's engine plan (JSON).
    static func describe(enginePlan json: String) -> String {
        struct Plan: Decodable { let block: Int; let convolutions: [String: String] }
        guard let plan = try? JSONDecoder().decode(Plan.self, from: Data(json.utf8)) else { return "plan unreadable: \(json.prefix(80))" }
        let counts = Dictionary(grouping: plan.convolutions.values, by: { $0 }).mapValues(\.count)
        let kernels = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        return "nChw\(plan.block)c; \(plan.convolutions.count) convolution passes" + (kernels.isEmpty ? "" : ": \(kernels)")
    }

    private func printLog(_ digest: String?, store: CacheStore) {
        guard let digest, let tail = LogTail.read(object: digest, in: store, lines: logLines) else { print("log      (none)"); return }
        print("log (last \(logLines) lines)")
        for line in tail.split(separator: "\n", omittingEmptySubsequences: false) { print("  │ \(line)") }
    }
}
