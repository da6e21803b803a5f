import Foundation
@testable import Experiments
import Pipeline
import Plot
import XCTest

/// Each figure is versioned on its own, and a figure whose deps lack a kind it reads fails when the
/// pipeline loads. Both against the shipped pipeline.json.
final class FigureStageTests: XCTestCase {
    static var shipped: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("pipeline.json")
    }

    /// Fig. 3's recipe with its version raised: what editing the recipe does.
    struct BumpedFig3: FigureRecipe {
        let inner = Fig3RelativeLoss()
        var id: String { inner.id }
        var title: String { inner.title }
        var version: Int { inner.version + 1 }
        var reads: [String] { inner.reads }
        func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] { try inner.figures(context) }
    }

    /// A figure added the way README's "Adding a figure" says: this recipe (registered in the one list,
    /// here `figureRecipes + [ToyFigure()]`) and its entry in pipeline.json's `figures` map.
    struct ToyFigure: FigureRecipe {
        let id = "toy"
        let title = "Fig. 42"
        let version = 1
        let reads = [RandomMatricesStage.kindName]
        func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
            let result = try context.result(of: RandomMatricesStage.self)
            var panel = Panel(x: Axis(label: "M"), y: Axis(label: "largest singular value"))
            panel.plot(result.metrics.map { Double($0.products) }, result.metrics.map(\.largestMean), label: "ours", color: .tabBlue)
            var fig = Figure(width: 4, height: 3, dpi: 100)
            fig[0, 0] = panel
            return [("toy-largest-singular-value", fig)]
        }
        func claims(_ context: StageContext) throws -> [Claim] {
            let result = try context.result(of: RandomMatricesStage.self)
            let grows = zip(result.metrics, result.metrics.dropFirst()).allSatisfy { $0.largestMean < $1.largestMean }
            return [Claim(id: "toy.grows", figure: "a label the recipe replaces", statement: "the largest singular value grows with M", paper: "grows",
                          source: "a test", ours: result.metrics.map { String(format: "%.2f", $0.largestMean) }.joined(separator: ", "),
                          test: "strictly increasing", verdict: Claim.verdict(grows))]
        }
    }

    func testAToyFigureAddedInTwoPlacesIsDrawnTitledAndItsClaimsGathered() throws {
        let text = #"""
        {"stages": [{"name": "matrices", "kind": "random-matrices", "params": {"size": 30, "repeats": 1, "theoryPoints": 50}},
                    {"name": "claims", "kind": "claims", "deps": ["@figures"]}],
         "figures": {"toy": ["matrices"]}}
        """#
        let figureKind = FigureStage(recipes: ExperimentKinds.figureRecipes + [ToyFigure()])
        let pipeline = try ResolvedPipeline(document: try PipelineDocument.parse(Data(text.utf8)),
                                            registry: registry(ExperimentKinds.figureRecipes + [ToyFigure()]))
        let toy = try XCTUnwrap(pipeline.stage("toy"))
        XCTAssertEqual(toy.kind.name, "figure")
        XCTAssertEqual(toy.deps, ["matrices"])
        XCTAssertEqual(try XCTUnwrap(pipeline.stage("claims")).deps, ["toy"], "the claims stage depends on every figure")
        XCTAssertEqual(toy.kind.title(params: toy.params), "Fig. 42", "the report's heading comes from the recipe")

        let dir = try ExperimentFixtures.temporaryDirectory("toy-figure")
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(_ stage: ResolvedStage, _ kind: any StageKind, _ inputs: [StageInputs]) throws -> StageInputs {
            let ctx = try ExperimentFixtures.context(stage.name, kind, stage.params.pairs.map { ($0.key, $0.value) }, inputs: inputs, in: dir)
            try kind.run(ctx)
            return try ExperimentFixtures.outputs(of: ctx, kind: kind.name)
        }
        let matrices = try run(try XCTUnwrap(pipeline.stage("matrices")), RandomMatricesStage(), [])
        let drawn = try run(toy, figureKind, [matrices])
        XCTAssertNotNil(drawn.files["toy-largest-singular-value.png"])
        let claims = try run(try XCTUnwrap(pipeline.stage("claims")), ClaimsStage(), [drawn])
        let table = try String(contentsOf: try XCTUnwrap(claims.files[ClaimsStage.markdownFile]), encoding: .utf8)
        XCTAssertTrue(table.contains("| Fig. 42 | the largest singular value grows with M |"), table)
        XCTAssertFalse(table.contains("a label the recipe replaces"), "every claim the figure carries is labelled by its recipe")
        XCTAssertTrue(table.contains("| Fig. 42 | more factors make the product more ill-conditioned"), "the analysis's own claims too: \(table)")
    }

    func registry(_ recipes: [any FigureRecipe]) -> KindRegistry {
        var r = KindRegistry()
        for kind in ExperimentKinds.registry.names.compactMap({ ExperimentKinds.registry.kind(named: $0) }) where kind.name != "figure" {
            r.register(kind)
        }
        r.register(FigureStage(recipes: recipes))
        return r
    }

    func testChangingOneRecipeChangesOnlyThatFiguresVersion() throws {
        let doc = try PipelineDocument.load(Self.shipped)
        let before = try ResolvedPipeline(document: doc, registry: ExperimentKinds.registry)
        let bumped = ExperimentKinds.figureRecipes.map { $0.id == "fig3" ? BumpedFig3() : $0 }
        let after = try ResolvedPipeline(document: doc, registry: registry(bumped))
        var changed: [String] = []
        for stage in before.stages where after.stage(stage.name)?.version != stage.version { changed.append(stage.name) }
        XCTAssertEqual(changed, ["fig3"])
        // A stage's key is made of its kind's version for its params: so fig3's key changes, and only
        // what depends on fig3's outputs (the claims table) can follow.
        let spec = { (p: ResolvedPipeline) in ActionSpec(stage: try XCTUnwrap(p.stage("fig3")), inputs: []).key }
        XCTAssertNotEqual(try spec(before), try spec(after))
        let fig2 = { (p: ResolvedPipeline) in ActionSpec(stage: try XCTUnwrap(p.stage("fig2")), inputs: []).key }
        XCTAssertEqual(try fig2(before), try fig2(after))
    }

    func testARecipeReadingAKindItsDepsLackFailsWhenThePipelineLoads() throws {
        let text = #"""
        {"stages": [{"name": "random-matrices", "kind": "random-matrices"}],
         "figures": {"fig3": ["random-matrices"]}}
        """#
        let doc = try PipelineDocument.parse(Data(text.utf8))
        XCTAssertThrowsError(try ResolvedPipeline(document: doc, registry: ExperimentKinds.registry)) { error in
            XCTAssertTrue("\(error)".contains("fig3") && "\(error)".contains("relative-loss"), "\(error)")
        }
    }

    func testEveryRecipeDeclaresWhatItReads() {
        for recipe in ExperimentKinds.figureRecipes {
            XCTAssertFalse(recipe.reads.isEmpty, "\(recipe.id) declares no kind it reads")
        }
    }
}
