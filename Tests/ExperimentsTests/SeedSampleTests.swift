@testable import Experiments
import XCTest

/// The seed-level verdict of the analyses at initialisation (issue 22, item 5).
final class SeedSampleTests: XCTestCase {
    func testMeanStandardErrorAndTheThreeVerdicts() {
        let s = SeedSample([1, 2, 3, 4, 5])
        XCTAssertEqual(s.mean, 3)
        XCTAssertEqual(s.standardError, (2.5).squareRoot() / (5).squareRoot(), accuracy: 1e-12)
        // 3 ± 2·0.707: [1.59, 4.41].
        XCTAssertEqual(s.atLeast(1.5), .holds)
        XCTAssertEqual(s.atLeast(5), .fails)
        XCTAssertEqual(s.atLeast(3), .inconclusive)
        XCTAssertEqual(s.within(1, 5), .holds)
        XCTAssertEqual(s.within(4.5, 9), .fails)
        XCTAssertEqual(s.atMost(4), .inconclusive)
    }

    func testOneSeedDecidesOnItsPointAndNaNFails() {
        XCTAssertEqual(SeedSample([0.8]).atLeast(0.7), .holds)
        XCTAssertEqual(SeedSample([0.6]).atLeast(0.7), .fails)
        XCTAssertEqual(SeedSample([.nan, 1]).atLeast(0), .fails)
        XCTAssertEqual(SeedSample([]).atLeast(0), .fails)
    }

    func testRatiosAreDecidedInLog10() {
        let r = SeedSample([80, 100, 125]).log10
        XCTAssertEqual(r.mean, 2, accuracy: 0.01)
        XCTAssertEqual(r.atLeast(log10(30)), .holds)
    }
}
