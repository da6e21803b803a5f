@testable import Experiments
import NN
@testable import Pipeline
import XCTest

/// App. H's comparisons on brackets: holds only where one net trains at a rate where the other fails,
/// ties declared, slow learning not read as instability (issue 22, item 6).
final class StableRateBracketTests: XCTestCase {
    private func trial(_ lr: Double, diverged: Bool, trains: Bool) -> MaxStableLRStage.Trial {
        MaxStableLRStage.Trial(lr: lr, seed: 0, diverged: diverged, divergenceStep: diverged ? 1 : nil,
                               lastEpochTrainAccuracy: trains ? 0.5 : 0.1, lastEpochLoss: 2, trains: trains)
    }

    private func search(_ stable: Double?, _ failing: Double?, trials: [MaxStableLRStage.Trial] = []) -> MaxStableLRStage.Result {
        MaxStableLRStage.Result(normalization: .none, depth: 20, largestStableLr: stable, smallestFailingLr: failing, trials: trials)
    }

    func testSeparatedBracketsDecideAndOverlapsOrTiesDoNot() {
        let high = StableRateBracket(search(0.316, 1)), low = StableRateBracket(search(0.0316, 0.1))
        XCTAssertEqual(high.above(low), .holds)
        XCTAssertEqual(low.above(high), .fails)
        // The same bracket: a tie at the grid's resolution is not "above".
        XCTAssertEqual(low.above(StableRateBracket(search(0.0316, 0.1))), .fails)
        // Overlapping brackets of a coarser search: neither trains where the other fails.
        XCTAssertEqual(StableRateBracket(search(0.05, 0.5)).above(low), .inconclusive)
        // The grid's top trained: at least its rate.
        XCTAssertEqual(StableRateBracket(search(1, nil)).above(high), .holds)
        XCTAssertEqual(StableRateBracket(search(1, nil)).text, "≥ 1")
        XCTAssertEqual(low.text, "0.0316–0.1")
    }

    func testNoRateTrainingIsBelowTheGridOnlyWhenTheBottomDiverges() {
        let diverging = StableRateBracket(search(nil, 0.01, trials: [trial(0.01, diverged: true, trains: false)]))
        XCTAssertFalse(diverging.undetermined)
        XCTAssertEqual(diverging.text, "< 0.01")
        XCTAssertEqual(StableRateBracket(search(0.0316, 0.1)).above(diverging), .holds)
        // Stable at the bottom but not learning within the budget: says nothing about stability.
        let slow = StableRateBracket(search(nil, 0.01, trials: [trial(0.1, diverged: true, trains: false), trial(0.01, diverged: false, trains: false)]))
        XCTAssertTrue(slow.undetermined)
        XCTAssertEqual(StableRateBracket(search(0.0316, 0.1)).above(slow), .inconclusive)
        XCTAssertEqual(slow.above(diverging), .inconclusive)
    }
}
