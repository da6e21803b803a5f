import XCTest
@testable import Plot

final class TickTests: XCTestCase {
    func values(_ t: TickSet) -> [Double] { t.major.map(\.value) }

    func testLinearOneTwoFive() {
        let t = TickGenerator.linear(0, 100, maxTicks: 6)
        XCTAssertEqual(values(t), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(t.labels, ["0", "20", "40", "60", "80", "100"])
        XCTAssertNil(t.offset)
        XCTAssertEqual(values(TickGenerator.linear(0, 100, maxTicks: 11)), stride(from: 0.0, through: 100, by: 10).map { $0 })
        XCTAssertEqual(values(TickGenerator.linear(0, 1, maxTicks: 3)), [0, 0.5, 1])
        XCTAssertEqual(values(TickGenerator.linear(0.05, 0.95, maxTicks: 6)), [0.2, 0.4, 0.6, 0.8])
    }

    func testSmallNegativeRangeUsesSharedDecimalsAndRealMinus() {
        // Fig. 2's left panel: −0.04 … 0.05.
        let t = TickGenerator.linear(-0.045, 0.052, maxTicks: 6)
        XCTAssertEqual(t.labels, ["\u{2212}0.04", "\u{2212}0.02", "0.00", "0.02", "0.04"])
        XCTAssertEqual(values(t)[2], 0)
        // Step values are exact decimals, never 0.30000000000000004.
        XCTAssertEqual(values(TickGenerator.linear(0, 0.9, maxTicks: 10))[3], 0.3)
    }

    func testNegativeRange() {
        let t = TickGenerator.linear(-3700, 2700, maxTicks: 5)
        XCTAssertEqual(t.labels, ["\u{2212}2000", "0", "2000"])
        XCTAssertEqual(TickGenerator.linear(-7, -1, maxTicks: 4).labels, ["\u{2212}6", "\u{2212}4", "\u{2212}2"])
    }

    func testHugeRangeGetsScaleOffset() {
        // Fig. 4, layer 80: −3×10⁸ … 1.8×10⁸ is labelled −3 … 1 with ×10⁸ above.
        let t = TickGenerator.linear(-3e8, 1.8e8, maxTicks: 6)
        XCTAssertEqual(t.offset?.plain, "×10⁸")
        XCTAssertEqual(t.labels, ["\u{2212}3", "\u{2212}2", "\u{2212}1", "0", "1"])
        let v = TickGenerator.linear(0, 5.5e16, maxTicks: 6)
        XCTAssertEqual(v.offset?.plain, "×10¹⁶")
        XCTAssertEqual(v.labels, ["0", "1", "2", "3", "4", "5"])
        XCTAssertFalse(v.labels.contains { $0.contains("e") })
    }

    func testTinyRangeGetsScaleOffset() {
        let t = TickGenerator.linear(0, 0.00042, maxTicks: 5)
        XCTAssertEqual(t.offset?.plain, "×10⁻⁴")
        XCTAssertEqual(t.labels, ["0", "1", "2", "3", "4"])
        // Fig. 6's colour bar stays readable without an offset.
        XCTAssertEqual(TickGenerator.linear(-0.0075, 0.0075, maxTicks: 4).labels, ["\u{2212}0.005", "0.000", "0.005"])
    }

    func testLogDecadesWithSuperscriptsAndMinorTicks() {
        let t = TickGenerator.log(1.3e-5, 0.2, maxMajor: 8)
        XCTAssertEqual(t.labels, ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"])
        let minor = t.ticks.filter { !$0.isMajor }.map(\.value)
        XCTAssertTrue(minor.contains { abs($0 - 2e-4) < 1e-12 })
        XCTAssertTrue(minor.contains { abs($0 - 9e-2) < 1e-12 })
        XCTAssertEqual(minor.count, 8 + 3 * 8 + 1)  // 2…9 ×10⁻⁵, three full decades, 2×10⁻¹
        // The exponent is a raised run, not a "1e-03" string.
        let label = t.major[1].label
        XCTAssertEqual(label?.runs, [TextRun("10"), TextRun("\u{2212}3", superscript: true)])
    }

    func testLogManyDecadesAreThinned() {
        // Fig. 3's unnormalised row: 10⁻² … 10⁶ labelled every other decade, 1 written plainly.
        let t = TickGenerator.log(1e-2, 1e6, maxMajor: 5)
        XCTAssertEqual(t.labels, ["10⁻²", "1", "10²", "10⁴", "10⁶"])
        XCTAssertEqual(t.ticks.count, 9)
    }

    func testNarrowLogRangeLabelsDecimals() {
        // Fig. 3's BN row spans less than a decade (10^-0.19 … 10^0.065): label 0.7 … 1, not garbled powers.
        let t = TickGenerator.log(pow(10, -0.19), pow(10, 0.065), maxMajor: 6)
        XCTAssertEqual(t.labels, ["0.7", "0.8", "0.9", "1"])
        // Crowded: thinned to even mantissas, then 1-2-5, then 1-3.
        XCTAssertEqual(TickGenerator.log(0.7, 2.4, maxMajor: 4).labels, ["0.8", "1", "2"])
        XCTAssertEqual(TickGenerator.log(0.15, 9, maxMajor: 5).labels, ["0.2", "0.5", "1", "2", "5"])
        XCTAssertEqual(TickGenerator.log(0.15, 9, maxMajor: 4).labels, ["0.3", "1", "3"])
        // Very narrow: falls back to linear ticks.
        XCTAssertEqual(TickGenerator.log(0.95, 1.05, maxMajor: 5).labels, ["0.96", "0.98", "1.00", "1.02", "1.04"])
    }

    func testFixedTicks() {
        let t = TickGenerator.fixed([6, 18, 30, 110])
        XCTAssertEqual(t.labels, ["6", "18", "30", "110"])
        XCTAssertEqual(TickGenerator.fixed([0.5, 1.25]).labels, ["0.50", "1.25"])
    }

    func testAutoLimitsPadAndStick() {
        let a = Axis()
        XCTAssertEqual(a.resolvedRange(data: 0...10), -0.5...10.5)
        XCTAssertEqual(a.resolvedRange(data: 0...10, sticky: [0]), 0...10.5)
        let log = Axis(scale: .log)
        let r = log.resolvedRange(data: 1e-2...1e2)
        XCTAssertEqual(log10(r.lowerBound), -2.2, accuracy: 1e-9)
        XCTAssertEqual(log10(r.upperBound), 2.2, accuracy: 1e-9)
        XCTAssertEqual(Axis(limits: .fixed(5, 1)).resolvedRange(data: 0...100), 1...5)
    }
}

final class TickEdgeTests: XCTestCase {
    func testNeverASingleLinearTickWhenTwoArePossible() {
        let t = TickGenerator.linear(-2.94, 4.34, maxTicks: 3)
        XCTAssertEqual(t.labels, ["\u{2212}2", "0", "2", "4"])
        XCTAssertEqual(TickGenerator.linear(3, 3, maxTicks: 5).major.count, 1, "a degenerate range still gets its tick")
    }
}
