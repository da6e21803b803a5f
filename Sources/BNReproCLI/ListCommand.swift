import ArgumentParser
import Foundation
import Pipeline

struct ListCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "Cached artifacts: stage, output, size, age (* = used by the current pipeline and profile).")

    @OptionGroup var options: PipelineOptions

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let current = Set(StatusReport(pipeline: try options.resolve(registry), store: store).states().compactMap { entry -> String? in
            if case .upToDate(let key) = entry.state { return key }
            return nil
        })
        let keys = store.allRecordKeys()
        let records = keys.compactMap(store.anyRecord).sorted { ($0.stage, $0.finished) < ($1.stage, $1.finished) }
        var rows = [["", "STAGE", "OUTPUT", "SIZE", "AGE", "DIGEST"]]
        var total: Int64 = 0
        for r in records {
            for (name, ref) in r.outputs.sorted(by: { $0.key < $1.key }) {
                rows.append([current.contains(r.key) ? "*" : " ", r.stage, name, Format.bytes(ref.size), Format.age(r.finished), String(ref.digest.prefix(12))])
                total += ref.size
            }
        }
        print(Format.table(rows))
        print("\(records.count) records, \(rows.count - 1) outputs, \(Format.bytes(total))")
        // Not listed, but not hidden either.
        if keys.count > records.count { print("\(keys.count - records.count) record(s) cannot be read; `bnrepro verify` says why") }
    }
}
