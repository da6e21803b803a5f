import Foundation
import Pipeline
import Plot

/// One figure of the paper, built from the outputs of the analysis stages it depends on.
/// A recipe is experiment-free drawing code: it reads numbers, returns `Figure` values.
public protocol FigureRecipe: Sendable {
    /// The id used in pipeline.json (`"params": {"figure": "fig3"}`) and in the file names.
    var id: String { get }
    /// What the paper calls it ("Fig. 3", "App. H"): the report's heading.
    var title: String { get }
    /// Bumped when the drawing changes; the figure stage's version, so it reruns this figure only.
    var version: Int { get }
    /// The kinds whose results it reads: a pipeline whose figure stage lacks one fails when it loads.
    var reads: [String] { get }
    /// Figures to write, by base file name (`fig3-relative-loss`); each becomes .png and .svg.
    func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)]
    /// Claims that only the figure can test (they compare several inputs); the analyses' own claims
    /// are repeated in the figure's claims.json without this.
    func claims(_ context: StageContext) throws -> [Claim]
    /// The label of a claim this figure's stage carries, in the claims table: the figure's, or another
    /// artefact's the same analysis tests (Table 1 beside Fig. 7).
    func claimLabel(id: String) -> String
}

extension FigureRecipe {
    public func claims(_ context: StageContext) throws -> [Claim] { [] }
    public func claimLabel(id: String) -> String { title }
}

/// `figure`: renders one recipe to PNG (with provenance in tEXt chunks) and SVG. Its outputs are
/// published to figures/ by pipeline.json's `publish`.
public struct FigureStage: ParameterizedKind, FigureDrawingKind {
    public static let kindName = "figure"
    public let name = FigureStage.kindName
    public let recipes: [any FigureRecipe]
    /// Bumped when what every figure stage shares (provenance, claims file) changes.
    public let version = 2
    /// Each figure's own version inside the shared one: changing one recipe reruns one figure.
    public func version(for params: JSONObject) -> Int {
        1000 * version + (recipe(params)?.version ?? 0)
    }

    public struct Params: StageParams {
        @Required("which figure to draw (fig1 … fig9, appE, appH, appK)") public var figure: String
        @Param("also write an SVG beside the PNG") public var svg = true

        public init() {}

        /// The figure a stage's params name, if they name one.
        static func figure(in params: JSONObject) -> String? { (try? decode(params, stage: "figure"))?.figure }
    }

    public init(recipes: [any FigureRecipe]) { self.recipes = recipes }

    public func params(forFigure id: String) -> JSONObject { JSONObject([("figure", .string(id))]) }

    public func title(params: JSONObject) -> String? { recipe(params)?.title }

    /// The recipe a stage's `figure` param names, if there is one.
    func recipe(_ params: JSONObject) -> (any FigureRecipe)? {
        Params.figure(in: params).flatMap { id in recipes.first { $0.id == id } }
    }

    func recipe(_ id: String?, stage: String) throws -> any FigureRecipe {
        guard let id, let recipe = recipes.first(where: { $0.id == id }) else {
            throw PipelineError.badParameter(stage: stage, parameter: "figure",
                problem: "no figure '\(id ?? "")'; known: \(recipes.map(\.id).joined(separator: ", "))")
        }
        return recipe
    }

    public func validate(_ params: Params, stage: String, dependencyKinds: [String]) throws {
        let recipe = try recipe(params.figure, stage: stage)
        for kind in recipe.reads where !dependencyKinds.contains(kind) {
            throw PipelineError.badParameter(stage: stage, parameter: "deps",
                problem: "figure '\(recipe.id)' reads the results of a '\(kind)' stage, and none of its deps is one")
        }
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let recipe = try recipe(params.figure, stage: context.stage)
        let metadata = provenance(context)
        for (name, figure) in try recipe.figures(context) {
            try figure.writePNG(to: context.output("\(name).png"), metadata: metadata)
            if params.svg { try figure.writeSVG(to: context.output("\(name).svg")) }
            print("wrote \(name).png (\(figure.pixelWidth)×\(figure.pixelHeight))")
        }
        // The recipe labels every claim its stage carries, whichever stage tested it.
        try context.writeClaims((try context.dependencyClaims() + recipe.claims(context)).map { claim in
            var labelled = claim
            labelled.figure = recipe.claimLabel(id: claim.id)
            return labelled
        })
    }

    /// What a reader of the PNG needs to trace it back: the stage, its key, params, inputs and commit.
    func provenance(_ context: StageContext) -> [String: String] {
        var inputs = JSONObject()
        for input in context.inputs {
            var files = JSONObject()
            for (name, url) in input.files.sorted(by: { $0.key < $1.key }) { files[name] = .string(input.storedNames[name] ?? url.lastPathComponent) }
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
