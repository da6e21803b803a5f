import Foundation
import Tensor
@testable import Pipeline
import XCTest
@testable import Experiments

final class RandomMatricesStageTests: XCTestCase {
    private var fixture: AnalysisFixture!
    override func setUpWithError() throws { fixture = try AnalysisFixture("random-matrices") }
    override func tearDownWithError() throws { fixture.remove() }

    func testTheoryIsMarchenkoPasturForOneMatrixAndIntegratesToOne() {
        let one = FussCatalan(products: 1)
        XCTAssertEqual(one.maxSquared, 4, accuracy: 1e-12)
        for phi in [0.1, 0.5, 1.0, 1.4] {
            let x = one.x(phi)
            XCTAssertEqual(one.density(phi), (4 - x).squareRoot() / (2 * Double.pi * x.squareRoot()), accuracy: 1e-12)
        }
        for m in [1, 2, 3, 5] {
            let law = FussCatalan(products: m)
            XCTAssertEqual(law.totalMass(), 1, accuracy: 1e-4, "M = \(m)")
            let edge = law.maxSingular
            XCTAssertEqual(law.cumulative(atSingularValues: [0, edge / 2, edge]), [0, law.cumulative(atSingularValues: [edge / 2])[0], 1])
        }
        XCTAssertEqual(FussCatalan(products: 3).maxSingular, 3.079, accuracy: 1e-3)
        XCTAssertEqual(FussCatalan(products: 5).maxSingular, 3.864, accuracy: 1e-3)
        // Quarter circle: P(s ≤ 1) = (1/π)(√3/2 + π/3) ≈ 0.609 for one matrix.
        XCTAssertEqual(one.cumulative(atSingularValues: [1])[0], (3.0.squareRoot() / 2 + Double.pi / 3) / Double.pi, accuracy: 1e-3)
    }

    func testSingularValuesFollowTheoremOneAndTheFiguresRender() throws {
        let c = try fixture.run("random-matrices", RandomMatricesStage(),
                                [("size", 200), ("products", [1, 3]), ("repeats", 3), ("bins", 25), ("theoryPoints", 200)])
        let sv = try readNPY(c.output("singular-values.npy"))
        XCTAssertEqual(sv.shape, [2, 600])
        let one = sv.values.prefix(600)
        XCTAssertEqual(one.max() ?? 0, 2, accuracy: 0.12, "quarter circle on [0, 2]")
        XCTAssertGreaterThanOrEqual(one.min() ?? -1, 0)
        XCTAssertEqual(one.reduce(0) { $0 + $1 * $1 } / 600, 1, accuracy: 0.05, "E s² = 1 with N(0, 1/N) entries")
        let result = try readJSON(RandomMatricesStage.Result.self, c.output(RandomMatricesStage.resultFile))
        for h in result.histograms {
            XCTAssertEqual(h.counts.reduce(0, +), 600)
            XCTAssertEqual(h.expected.reduce(0, +), 600, accuracy: 600 * 0.02)
            XCTAssertEqual(h.edges.count, 26)
        }
        let metrics = result.metrics
        for m in metrics { XCTAssertLessThan(m.ksDistance, 0.06, "M = \(m.products) against Theorem 1") }
        let theory = try XCTUnwrap(result.theory.first)
        XCTAssertEqual(theory.s.count, 200)
        XCTAssertEqual(theory.s.last ?? 0, 2, accuracy: 1e-3)

        let outputs = fixture.outputs(of: c, kind: "random-matrices")
        try fixture.renderFigure("fig8", from: outputs)
        try fixture.renderFigure("fig9", from: outputs)
    }
}

extension RandomMatricesStageTests {
    /// The float64 product against a direct triple loop.
    func testProductIsTheMatrixProduct() {
        let rng = Philox(seed: 9)
        let x = RandomMatricesStage.product(of: 2, size: 5, rng: rng)
        let a = rng.substream(0).normal(count: 25, std: Float(1 / 5.0.squareRoot())).map(Double.init)
        let b = rng.substream(1).normal(count: 25, std: Float(1 / 5.0.squareRoot())).map(Double.init)
        for i in 0..<5 {
            for j in 0..<5 {
                let direct = (0..<5).map { a[i * 5 + $0] * b[$0 * 5 + j] }.reduce(0, +)
                XCTAssertEqual(x[i * 5 + j], direct, accuracy: 1e-12)
            }
        }
    }
}
