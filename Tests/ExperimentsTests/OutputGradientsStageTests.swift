import Foundation
@testable import Pipeline
import XCTest
@testable import Experiments

final class OutputGradientsStageTests: XCTestCase {
    private var fixture: AnalysisFixture!
    override func setUpWithError() throws { fixture = try AnalysisFixture("output-gradients") }
    override func tearDownWithError() throws { fixture.remove() }

    func testRowsAreSoftmaxMinusOneHotOverBAndSumToZero() throws {
        let c = try fixture.run("output-gradients", OutputGradientsStage(), smallNetwork + [("batch", 1)])
        let labels = try readNPY(c.output("labels.npy")).values.map(Int.init)
        let batch = try XCTUnwrap(AnalysisSetup.firstBatches(c, try c.params(NetworkParams.self), count: 2).last)
        XCTAssertEqual(labels, batch.labels.map(Int.init), "the labels of mini-batch 1")
        let summary = try readJSON(OutputGradientsStage.Result.self, c.output(OutputGradientsStage.resultFile))
        for key in ["bn", "nobn"] {
            let g = try readNPY(c.output("logit-gradients-\(key).npy"))
            XCTAssertEqual(g.shape, [16, 10])
            for b in 0..<16 {
                let row = Array(g.values[(b * 10)..<((b + 1) * 10)])
                XCTAssertEqual(row.reduce(0, +), 0, accuracy: 1e-6, "softmax rows sum to one")
                // Only the true class is negative, and every entry lies in (−1/B, 1/B).
                for (j, v) in row.enumerated() {
                    XCTAssertEqual(v < 0, j == labels[b], "row \(b), class \(j): \(v)")
                    XCTAssertLessThan(abs(v), 1.0 / 16 + 1e-7)
                }
            }
            let s = try XCTUnwrap(summary.networks[key])
            XCTAssertLessThan(s.maxDeviationFromSoftmaxFormula, 1e-6)
            XCTAssertEqual(s.predictedPerClass.reduce(0, +), 16)
        }
        // The summary's own check against a hand-made case: logits (0, ln 3), label 1, B = 2.
        let check = OutputGradientsStage.summarize(logits: [0, log(3), 0, 0], gradients: [0.125, -0.125, -0.25, 0.25],
                                                   labels: [1, 0], classes: 2, loss: 0)
        XCTAssertLessThan(check.maxDeviationFromSoftmaxFormula, 1e-12)
        XCTAssertEqual(check.predictedPerClass, [1, 1])
        try fixture.renderFigure("fig6", from: fixture.outputs(of: c, kind: "output-gradients"))
    }
}

/// Fig. 6's spread measure: the mean over images of exp(softmax entropy).
final class PredictionPerplexityTests: XCTestCase {
    func testPerplexityCountsTheClassesAnImageIsSpreadOver() {
        var s = PredictionSummary(classes: 4)
        s.add(logits: [3, 3, 3, 3])              // uniform over 4: exp(H) = 4
        s.add(logits: [200, 0, 0, 0])            // certain: exp(H) = 1
        s.add(logits: [5, 5, -300, -300])        // two classes: exp(H) = 2
        XCTAssertEqual(s.meanPerplexity, 7.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(s.meanMaxProbability, (0.25 + 1 + 0.5) / 3, accuracy: 1e-9)
    }
}
