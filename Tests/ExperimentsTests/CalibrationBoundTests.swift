@testable import Experiments
import XCTest

/// The calibration trains rows only until no untrained row could be chosen (`CalibrationVariant.rowsToTrain`).
final class CalibrationBoundTests: XCTestCase {
    /// On random grids, every row that the exhaustive choice could pick (its total within the tie band of
    /// the best total over all rows) is among the trained rows, and the best total is the same.
    func testTheBoundNeverLeavesOutARowThatCouldBeChosen() {
        var rng = SystemRandomNumberGenerator()
        var savedSomewhere = false
        for _ in 0..<2_000 {
            let n = Int.random(in: 1...40, using: &rng)
            let statics = (0..<n).map { _ in Double.random(in: 1...10, using: &rng) }
            let terms = (0..<n).map { _ in Double.random(in: 0...3, using: &rng) }
            let totals = zip(statics, terms).map { $0 + $1 }
            let trained = CalibrationVariant.rowsToTrain(statics: statics) { totals[$0] }
            let best = totals.min()!
            let couldBeChosen = totals.indices.filter { totals[$0] <= best * CalibrationVariant.tieFactor }
            XCTAssertTrue(Set(couldBeChosen).isSubset(of: trained), "statics \(statics), terms \(terms)")
            XCTAssertEqual(trained.map { totals[$0] }.min(), best)
            savedSomewhere = savedSomewhere || trained.count < n
        }
        XCTAssertTrue(savedSomewhere, "the bound never stopped early, so it was not exercised")
    }

    func testRowsAreTrainedInStaticOrderAndStopAtTheBand() {
        // Totals 5, 3, 3.6, 20: the best after two rows is 3; static 3.1 ≤ 3 × 1.05, 9 is not.
        let statics = [3.0, 2.0, 3.1, 9.0], terms = [2.0, 1.0, 0.5, 11.0]
        var order: [Int] = []
        let trained = CalibrationVariant.rowsToTrain(statics: statics) { i in order.append(i); return statics[i] + terms[i] }
        XCTAssertEqual(order, [1, 0, 2])
        XCTAssertEqual(trained, [1, 0, 2])
    }

    func testAnOverflowingRowIsNeverTrained() {
        let trained = CalibrationVariant.rowsToTrain(statics: [.infinity, 1]) { _ in .infinity }
        XCTAssertEqual(trained, [1])
    }
}
