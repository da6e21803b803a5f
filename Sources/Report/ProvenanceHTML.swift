import Foundation
import Pipeline

/// Where a result came from: the stage's key, params and input digests, the commit, host and executor
/// it ran on, its wall and CPU time and peak memory, and the command that reruns it.
public struct ProvenanceHTML: Sendable {
    public let stage: StageSnapshot
    public let record: ActionRecord
    public let snapshot: ReportSnapshot

    public var html: HTML {
        let iso = ISO8601DateFormatter()
        let upstream = upstreamSeconds
        let memory = record.peakMemoryBytes.map { "\n<dt>memory</dt><dd>peak resident \(ByteCount.text($0))</dd>" as HTML } ?? ""
        let inputs: [HTML] = record.inputs.flatMap { input in
            input.outputs.sorted { $0.key < $1.key }.map { name, ref in
                "<tr><th scope=\"row\"><code>\(input.stage):\(name)</code></th><td>\(ByteCount.text(ref.size))</td><td><code class=\"digest\">\(ref.digest)</code></td></tr>" as HTML
            }
        }
        let inputTable: HTML = inputs.isEmpty ? "<p>No inputs.</p>" : ScrollingTable.wrap(
            "<table><caption>Inputs of \(record.stage), by content digest (SHA-256)</caption><thead><tr><th scope=\"col\">stage:output</th><th scope=\"col\">size</th><th scope=\"col\">digest</th></tr></thead><tbody>\(inputs)</tbody></table>",
            label: "Inputs of \(record.stage)")
        return """
        <dl class="provenance">
        <dt>stage</dt><dd><code>\(record.stage)</code> (kind <code>\(record.kind)</code>, version \(record.version))</dd>
        <dt>key</dt><dd><code class="digest">\(record.key)</code></dd>
        <dt>params</dt><dd><pre>\(JSONValue.object(record.params).prettyText(sortedKeys: true))</pre></dd>
        <dt>commit</dt><dd><code>\(record.gitCommit ?? "unknown")</code></dd>
        <dt>host</dt><dd>\(record.host), executor <code>\(record.executor)</code></dd>
        <dt>ran</dt><dd>\(iso.string(from: record.started)) → \(iso.string(from: record.finished))</dd>
        <dt>time</dt><dd>wall \(Console.duration(record.wallSeconds)), CPU \(Console.duration(record.cpuSeconds)); \
        with every stage it depends on: wall \(Console.duration(upstream.wall)), CPU \(Console.duration(upstream.cpu))</dd>\(memory)
        <dt>audit</dt><dd>\(AuditHTML.line(AuditHTML.audit(of: stage, in: snapshot.store)))</dd>
        <dt>rerun</dt><dd><code>\(snapshot.rerunCommand(record.stage, force: true))</code> (this stage only; its inputs stay cached)</dd>
        </dl>
        \(inputTable)
        """
    }

    /// The stage and everything it needs, as recorded: what the figure cost from the raw data.
    var upstreamSeconds: (wall: Double, cpu: Double) {
        let names = Set(((try? snapshot.pipeline.closure(of: [stage.stage.name])) ?? []).map(\.name))
        return snapshot.stages.filter { names.contains($0.stage.name) }.compactMap(\.record)
            .reduce((0, 0)) { ($0.0 + $1.wallSeconds, $0.1 + $1.cpuSeconds) }
    }
}
