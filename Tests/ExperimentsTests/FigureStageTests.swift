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
        var version: Int { inner.version + 1 }
        var reads: [String] { inner.reads }
        func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] { try inner.figures(context) }
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
