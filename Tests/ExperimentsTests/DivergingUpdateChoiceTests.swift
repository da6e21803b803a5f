import Foundation
@testable import Experiments
@testable import Pipeline
import XCTest

/// `diverging-update-choice`: candidates scored against the paper's six colour bars (issue 22, item 2).
final class DivergingUpdateChoiceTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("diverging-update-choice") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Layers 8, 44, 80 whose largest |mean| and variance are the paper's colour bars times `factor`.
    private func candidate(times factor: Double, layers: [Int] = [8, 44, 80], outcome: DivergingUpdateOutcome = .diverged) -> DivergingUpdateResult {
        let paper = [8: (1.4, 1.0), 44: (3_700.0, 5.3e6), 80: (3e8, 5.5e16)]
        let roles = Dictionary(uniqueKeysWithValues: zip(layers, [8, 44, 80]))
        var curves: [Int: [Double]] = [:], means: [Int: Double] = [:]
        for l in layers {
            let (m, v) = paper[roles[l]!]!
            curves[l] = [0.01 * v, 0.1 * v, v * factor].map { $0 }
            means[l] = -m * factor
        }
        return SyntheticDivergingUpdate.result(curves, means: means, t: [0, 0.9, 1], outcome: outcome)
    }

    private func input(_ name: String, _ r: DivergingUpdateResult, params: JSONObject = JSONObject()) throws -> StageInputs {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(DivergingUpdateStage.resultFile)
        try ResultJSON.write(r, to: file)
        return StageInputs(stage: name, kind: DivergingUpdateStage.kindName, params: params, files: [DivergingUpdateStage.resultFile: file])
    }

    private func run(_ inputs: [StageInputs]) throws -> (DivergingUpdateChoice, [Claim], String) {
        let ctx = try ExperimentFixtures.context("choice", DivergingUpdateChoiceStage(), [], inputs: inputs, in: dir)
        try DivergingUpdateChoiceStage().run(ctx)
        let choice = try ResultJSON.read(DivergingUpdateChoice.self, from: ctx.output(DivergingUpdateChoiceStage.resultFile))
        let claims = try ClaimsFile.read(from: ctx.output(ClaimsFile.fileName)).claims
        let table = try String(contentsOf: ctx.output(DivergingUpdateChoiceStage.tableFile), encoding: .utf8)
        return (choice, claims, table)
    }

    func testTheCandidateClosestToThePapersColourBarsIsChosen() throws {
        let (choice, claims, table) = try run([
            try input("du@far", candidate(times: 1e4)),
            try input("du@paper", candidate(times: 1), params: JSONObject([("stableSteps", 6), ("stableLr", 1e-4), ("lr", 0.1), ("lrFactor", 3.16)])),
            try input("du@overflow", candidate(times: 1, outcome: .overflowed)),
        ])
        XCTAssertEqual(choice.chosenStage, "du@paper")
        XCTAssertEqual(choice.chosenDescription, "6 steps at lr 0.0001, then lr 0.1, ÷3.16 while the update overflows float32")
        let scores: [String: Double?] = Dictionary(uniqueKeysWithValues: choice.candidates.map { ($0.stage, $0.score) })
        XCTAssertEqual(scores["du@paper"]!!, 0, accuracy: 1e-9)
        XCTAssertEqual(scores["du@far"]!!, 4, accuracy: 1e-9)
        XCTAssertNil(scores["du@overflow"]!)
        XCTAssertEqual(choice.candidates.first { $0.stage == "du@paper" }?.terms.count, 6)
        XCTAssertTrue(table.contains("`du@paper` **chosen**") && table.contains("| overflowed |"), table)

        let byID: [String: Claim] = Dictionary(uniqueKeysWithValues: claims.map { ($0.id, $0) })
        XCTAssertEqual(byID["fig4.colour-bars"]?.verdict, .holds)
        XCTAssertEqual(byID["fig4.end-scale"]?.verdict, .holds)
        // What the score read is in-sample; the timing of the explosion is not scored.
        XCTAssertEqual(byID["fig4.colour-bars"]?.inSample, true)
        XCTAssertEqual(byID["fig4.end-scale"]?.inSample, true)
        XCTAssertNotEqual(byID["fig4.late-explosion"]?.inSample, true)
    }

    func testAFarCandidateFailsTheColourBarClaimWhenItIsTheOnlyOne() throws {
        let (_, claims, _) = try run([try input("du@far", candidate(times: 1e4))])
        XCTAssertEqual(claims.first { $0.id == "fig4.colour-bars" }?.verdict, .fails)
        XCTAssertEqual(claims.first { $0.id == "fig4.end-scale" }?.verdict, .fails)
    }

    func testASmallerNetsLayersStandForThePapersByPosition() {
        let terms = DivergingUpdateChoiceStage.colourBarTerms(candidate(times: 10, layers: [2, 4, 6]))
        XCTAssertEqual(terms.map(\.paperLayer), [8, 8, 44, 44, 80, 80])
        XCTAssertEqual(terms.map(\.layer), [2, 2, 4, 4, 6, 6])
        for t in terms { XCTAssertEqual(t.distance, 1, accuracy: 1e-9, "\(t)") }
    }

    func testNoRepresentableCandidateIsAnErrorNamingEachOutcome() throws {
        XCTAssertThrowsError(try run([
            try input("du@a", candidate(times: 1, outcome: .overflowed)),
            try input("du@b", candidate(times: 1, outcome: .noDivergence)),
        ])) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("choice") && text.contains("du@a: overflowed") && text.contains("du@b: noDivergence"), text)
        }
    }
}

/// Fig. 4's panel titles print range ends as the paper's colour bars do.
final class Fig4ScaleTextTests: XCTestCase {
    func testRangeEndsArePlainInTheMiddleAndPowersOfTenOutside() {
        XCTAssertEqual(Fig4DivergingUpdate.scale(-0.69), "−0.69")
        XCTAssertEqual(Fig4DivergingUpdate.scale(3_700), "3700")
        XCTAssertEqual(Fig4DivergingUpdate.scale(-1.8e4), "−1.8·10⁴")
        XCTAssertEqual(Fig4DivergingUpdate.scale(5.5e16), "5.5·10¹⁶")
        XCTAssertEqual(Fig4DivergingUpdate.scale(2.2e-6), "2.2·10⁻⁶")
        XCTAssertEqual(Fig4DivergingUpdate.scale(0), "0")
    }
}
