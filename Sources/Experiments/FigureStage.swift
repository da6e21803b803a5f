import Foundation
import Pipeline
import Plot

/// One figure of the paper, built from the outputs of the analysis stages it depends on.
/// A recipe is experiment-free drawing code: it reads numbers, returns `Figure` values.
public protocol FigureRecipe: Sendable {
    /// The id used in pipeline.json (`"params": {"figure": "fig3"}`) and in the file names.
    var id: String { get }
    /// Bumped when the drawing changes; part of the figure stage's version.
    var version: Int { get }
    /// Figures to write, by base file name (`fig3-relative-loss`); each becomes .png and .svg.
    func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)]
}

/// `figure`: renders one recipe to PNG (with provenance in tEXt chunks) and SVG. Its outputs are
/// published to figures/ by pipeline.json's `publish`.
public struct FigureStage: StageKind {
    public let name = "figure"
    public let recipes: [any FigureRecipe]
    /// The kind's version covers every recipe's, so changing one recipe's drawing redraws its figure
    /// (and, harmlessly, the others: drawing is cheap next to the analyses).
    public var version: Int { 1 + recipes.reduce(0) { $0 + $1.version } }
    public let parameters = [
        ParameterSpec("figure", .string, help: "which figure to draw (fig1 … fig9, table1)"),
        ParameterSpec("svg", .boolean, default: true, help: "also write an SVG beside the PNG"),
    ]

    public init(recipes: [any FigureRecipe]) { self.recipes = recipes }

    public func run(_ context: StageContext) throws {
        let id = try context.string("figure")
        guard let recipe = recipes.first(where: { $0.id == id }) else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "figure",
                problem: "no figure '\(id)'; known: \(recipes.map(\.id).joined(separator: ", "))")
        }
        let metadata = provenance(context)
        for (name, figure) in try recipe.figures(context) {
            try figure.writePNG(to: context.output("\(name).png"), metadata: metadata)
            if try context.bool("svg") { try figure.writeSVG(to: context.output("\(name).svg")) }
            print("wrote \(name).png (\(figure.pixelWidth)×\(figure.pixelHeight))")
        }
    }

    /// What a reader of the PNG needs to trace it back: the stage, its key, params, inputs and commit.
    func provenance(_ context: StageContext) -> [String: String] {
        var inputs = JSONObject()
        for input in context.inputs {
            var files = JSONObject()
            for (name, url) in input.files.sorted(by: { $0.key < $1.key }) { files[name] = .string(url.lastPathComponent) }
            inputs[input.stage] = .object(files)
        }
        return [
            "Stage": context.stage,
            "StageKey": context.key,
            "Params": JSONValue.object(context.params).canonicalText,
            "Inputs": JSONValue.object(inputs).canonicalText,
            "GitCommit": ProcessInfo.processInfo.environment["BNREPRO_GIT_COMMIT"] ?? "unknown",
            "Source": "Bjorck, Gomes, Selman, Weinberger: Understanding Batch Normalization (NeurIPS 2018), reproduced by bnrepro",
        ]
    }
}
