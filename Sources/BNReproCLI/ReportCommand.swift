import ArgumentParser
import Foundation
import Pipeline
import Report

struct ReportCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of the cache's current state: summary, DAG, calibration, every figure with its claims, data and provenance.",
        discussion: """
        Reads the cache, runs nothing: a figure that is stale or never run says so. The page inlines its figures \
        (PNG data URIs) and its CSV downloads, needs no network and works without JavaScript, so it can be \
        opened offline or attached to an e-mail. The DAG is drawn by Graphviz's `dot` when installed (`make deps`). Examples:
          bnrepro report                                  # report/index.html beside pipeline.json
          bnrepro report --profile smoke --output /tmp/smoke.html
        """)

    @OptionGroup var options: PipelineOptions
    @Option(name: .shortAndLong, help: "Where to write the page (default: report/index.html beside the pipeline file).")
    var output: String?

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let snapshot = try ReportSnapshot(pipeline: pipeline, store: try options.cacheStore(),
                                          projectDirectory: options.projectDirectory, assignments: options.assignments)
        let url = output.map { URL(fileURLWithPath: $0).standardizedFileURL }
            ?? options.projectDirectory.appendingPathComponent("report/index.html")
        let page = Data(ReportPage(snapshot: snapshot).html.markup.utf8)
        try FileIO.createDirectory(url.deletingLastPathComponent())
        try FileIO.atomicWrite(page, to: url)
        let figures = snapshot.figures
        let drawn = figures.filter { $0.record != nil }.count
        print("wrote \(url.path) (\(Format.bytes(Int64(page.count))), \(drawn) of \(figures.count) figures)")
        print("profile \(pipeline.profile): \(snapshot.claims.table.summary)")
        print("open it with: xdg-open \(url.path)   (or file://\(url.path) in a browser)")
    }
}
