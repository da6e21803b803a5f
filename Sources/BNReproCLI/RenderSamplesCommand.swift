import ArgumentParser
import Foundation
import Plot

struct RenderSamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-samples",
        abstract: "Draw one sample of every kind of panel the paper's figures use (PNG and SVG), from synthetic data.",
        discussion: "For checking the renderer by eye: lines with bands, log-log grids, heat maps with colour bars, histograms, error bars, zooms.")

    @Argument(help: "The directory to write into (created if missing).") var directory: String

    func run() throws {
        let url = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for file in try SampleFigures.render(into: url) { print(file.path) }
    }
}
