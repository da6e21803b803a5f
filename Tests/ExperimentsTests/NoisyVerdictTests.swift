import XCTest
@testable import Experiments

/// The verdict rule of issue 21: a comparison or an equivalence decided only beyond two combined
/// standard errors; inside them, inconclusive.
final class NoisyVerdictTests: XCTestCase {
    func testStandardErrorCombinesSeedSpreadAndBinomialError() {
        let one = SeededAccuracy(values: [0.5], images: 10_000)
        XCTAssertEqual(one.standardError, (0.25 / 10_000).squareRoot(), accuracy: 1e-12)
        let two = SeededAccuracy(values: [0.4, 0.6], images: 10_000)
        // s² = 0.02, k = 2: 0.01 from the seeds, plus (0.24 + 0.24) / 10⁴ / 4 binomial.
        XCTAssertEqual(two.standardError, (0.01 + 0.48 / 10_000 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(two.seedSpread, 0.02.squareRoot(), accuracy: 1e-12)
    }

    func testComparisonHoldsFailsAndIsInconclusive() {
        let high = SeededAccuracy(values: [0.80, 0.81], images: 10_000)
        let low = SeededAccuracy(values: [0.70, 0.71], images: 10_000)
        XCTAssertEqual(NoisyVerdict.greater(high, than: low), .holds)
        XCTAssertEqual(NoisyVerdict.greater(low, than: high), .fails)
        // 1 point apart on 1,000 images (SE ≈ 1.3 points each): within the noise either way.
        let a = SeededAccuracy(values: [0.50], images: 1_000), b = SeededAccuracy(values: [0.49], images: 1_000)
        XCTAssertEqual(NoisyVerdict.greater(a, than: b), .inconclusive)
        XCTAssertEqual(NoisyVerdict.greater(b, than: a), .inconclusive)
        // The same margin with widely spread seeds is no verdict either.
        let spread = SeededAccuracy(values: [0.60, 0.90], images: 10_000)
        XCTAssertEqual(NoisyVerdict.greater(spread, than: low), .inconclusive)
    }

    func testEquivalenceHoldsFailsAndIsInconclusive() {
        let a = SeededAccuracy(values: [0.813, 0.814], images: 10_000), b = SeededAccuracy(values: [0.820, 0.819], images: 10_000)
        XCTAssertEqual(NoisyVerdict.equivalent(a, b, tolerance: 0.02), .holds)
        let far = SeededAccuracy(values: [0.70, 0.705], images: 10_000)
        XCTAssertEqual(NoisyVerdict.equivalent(far, b, tolerance: 0.02), .fails)
        // 2.5 points apart with an interval of about ±2 points straddles the bound.
        let near = SeededAccuracy(values: [0.795], images: 2_000), ref = SeededAccuracy(values: [0.82], images: 2_000)
        XCTAssertEqual(NoisyVerdict.equivalent(near, ref, tolerance: 0.02), .inconclusive)
    }

    func testABoundHoldsFailsAndIsInconclusive() {
        // 11 % on 1,000 images: SE ≈ 1 point, so 11 + 2 ≤ 15 holds.
        XCTAssertEqual(NoisyVerdict.atMost(SeededAccuracy(values: [0.11, 0.11], images: 1_000), 0.15), .holds)
        // 20 % is beyond 15 % by more than 2 SE.
        XCTAssertEqual(NoisyVerdict.atMost(SeededAccuracy(values: [0.20, 0.21], images: 1_000), 0.15), .fails)
        // 14 % with seeds at 10 and 18: the spread straddles the bar.
        XCTAssertEqual(NoisyVerdict.atMost(SeededAccuracy(values: [0.10, 0.18], images: 1_000), 0.15), .inconclusive)
        XCTAssertEqual(NoisyVerdict.atMost(SeededAccuracy(values: [], images: 1_000), 0.15), .fails)
        // The lower bound, symmetric: 65 % ± ~0.5 clears 60 %; 55 % does not reach it; 55–66 % straddles it.
        XCTAssertEqual(NoisyVerdict.atLeast(SeededAccuracy(values: [0.65, 0.66], images: 50_000), 0.6), .holds)
        XCTAssertEqual(NoisyVerdict.atLeast(SeededAccuracy(values: [0.55, 0.55], images: 50_000), 0.6), .fails)
        XCTAssertEqual(NoisyVerdict.atLeast(SeededAccuracy(values: [0.55, 0.66], images: 50_000), 0.6), .inconclusive)
        XCTAssertEqual(NoisyVerdict.atLeast(SeededAccuracy(values: [], images: 50_000), 0.6), .fails)
    }

    func testNonFiniteMeasurementsFail() {
        let bad = SeededAccuracy(values: [], images: 10_000), good = SeededAccuracy(values: [0.5], images: 10_000)
        XCTAssertEqual(NoisyVerdict.greater(bad, than: good), .fails)
        XCTAssertEqual(NoisyVerdict.equivalent(bad, good, tolerance: 0.02), .fails)
    }
}
