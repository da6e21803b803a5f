import XCTest
@testable import Tensor

final class PhiloxTests: XCTestCase {
    /// Known-answer vectors of Philox4x32-10 from Random123 (kat_vectors).
    func testKnownAnswers() {
        let z = Philox(seed: 0, stream: 0).block(0)
        XCTAssertEqual([z.0, z.1, z.2, z.3], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let f = Philox(seed: .max, stream: .max).block(.max)
        XCTAssertEqual([f.0, f.1, f.2, f.3], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
    }

    func testSameSeedSameNumbersAndSlicesAgree() {
        let a = Philox(seed: 42).normal(count: 1001)
        let b = Philox(seed: 42).normal(count: 1001)
        XCTAssertEqual(a, b)
        // The first k numbers do not depend on how many are drawn.
        XCTAssertEqual(Array(Philox(seed: 42).normal(count: 10)), Array(a.prefix(10)))
        XCTAssertNotEqual(Philox(seed: 43).normal(count: 10), Array(a.prefix(10)))
        XCTAssertNotEqual(Philox(seed: 42).substream(1).normal(count: 10), Array(a.prefix(10)))
    }

    /// Frozen values: if these change, every initialisation in the cache changes with them.
    func testFrozenValues() {
        let u = Philox(seed: 2018).uniform(count: 3)
        let n = Philox(seed: 2018).normal(count: 3)
        print("frozen uniform \(u.map { $0.bitPattern }) normal \(n.map { $0.bitPattern })")
        XCTAssertEqual(u.map { $0.bitPattern }, PhiloxTests.frozenUniform)
        XCTAssertEqual(n.map { $0.bitPattern }, PhiloxTests.frozenNormal)
    }
    static let frozenUniform: [UInt32] = [1_062_404_477, 1_061_134_031, 1_025_920_560]
    static let frozenNormal: [UInt32] = [3_149_780_898, 3_206_490_568, 3_212_766_642]

    func testMoments() {
        let n = 200_000
        let x = Philox(seed: 7).normal(count: n, mean: 1, std: 2).map(Double.init)
        let m = x.reduce(0, +) / Double(n)
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n)
        XCTAssertEqual(m, 1, accuracy: 0.02)
        XCTAssertEqual(v, 4, accuracy: 0.05)
        let u = Philox(seed: 8).uniform(count: n, low: -1, high: 3)
        XCTAssertGreaterThanOrEqual(u.min() ?? -2, -1)
        XCTAssertLessThan(u.max() ?? 4, 3)
        XCTAssertEqual(u.map(Double.init).reduce(0, +) / Double(n), 1, accuracy: 0.02)
    }

    func testPermutation() {
        let p = Philox(seed: 3).permutation(100)
        XCTAssertEqual(p.sorted(), Array(0..<100))
        XCTAssertNotEqual(p, Array(0..<100))
        XCTAssertEqual(p, Philox(seed: 3).permutation(100))
    }
}
