import Foundation
import NN
@testable import Pipeline
import XCTest
@testable import Experiments

final class GradientHistogramStageTests: XCTestCase {
    private var fixture: AnalysisFixture!
    override func setUpWithError() throws { fixture = try AnalysisFixture("gradient-histogram") }
    override func tearDownWithError() throws { fixture.remove() }

    func testPooledGradientsAreEachBatchsLayerGradientAndTheFigureRenders() throws {
        let c = try fixture.run("gradient-histogram", GradientHistogramStage(),
                                smallNetwork + [("layer", 5), ("batches", 2), ("bins", 20)])
        let result = try readJSON(GradientHistogramStage.Result.self, c.output(GradientHistogramStage.resultFile))
        XCTAssertEqual(result.weightsPerBatch, 32 * 32 * 9)   // layer 5 of ResNet-8: 32 → 32
        for key in ["bn", "nobn"] {
            let g = try readNPY(c.output("gradients-\(key).npy"))
            XCTAssertEqual(g.shape, [2, 32, 32, 3, 3])
            let h = try XCTUnwrap(result.histograms[key])
            XCTAssertEqual(h.counts.count, 20)
            XCTAssertEqual(h.counts.reduce(0, +), Double(2 * 9216), "every value is counted once")
            XCTAssertEqual(h.edges.first ?? .nan, g.values.min() ?? .nan, accuracy: 1e-12)
            XCTAssertEqual(h.edges.last ?? .nan, g.values.max() ?? .nan, accuracy: 1e-12)
        }
        // The first pooled slice is the gradient of a fresh network on mini-batch 0, recomputed here.
        let net = try AnalysisSetup.network(try c.params(NetworkParams.self), normalization: .batchNorm)
        let batch = try XCTUnwrap(AnalysisSetup.firstBatches(c, try c.params(NetworkParams.self), count: 1).first)
        try net.forward(images: batch.images, labels: batch.labels)
        try net.backward()
        let expected = try net.weightGradient(layer: 5).data.map(Double.init)
        let pooled = try readNPY(c.output("gradients-bn.npy")).values
        let diff = zip(expected, pooled.prefix(9216)).map { abs($0 - $1) }.max() ?? .nan
        XCTAssertLessThan(diff, 1e-7, "maxdiff = \(diff)")
        XCTAssertNotEqual(Array(pooled.prefix(9216)), Array(pooled.suffix(9216)), "the two mini-batches give different gradients")

        XCTAssertTrue(result.stdRatioNoBNOverBN.isFinite)
        let claims = try ClaimsFile.read(from: c.output(ClaimsFile.fileName)).claims
        XCTAssertEqual(claims.map(\.id), ["fig2.std-ratio", "fig2.bn-std"])
        try fixture.renderFigure("fig2", from: fixture.outputs(of: c, kind: "gradient-histogram"))
    }

    func testRejectsTheLinearLayer() throws {
        let c = try fixture.context("gradient-histogram", GradientHistogramStage(), smallNetwork + [("layer", 8), ("batches", 1)])
        XCTAssertThrowsError(try GradientHistogramStage().run(c)) { XCTAssertTrue("\($0)".contains("layer"), "\($0)") }
    }
}
