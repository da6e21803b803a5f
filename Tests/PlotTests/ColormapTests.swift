import XCTest
@testable import Plot

final class ColormapTests: XCTestCase {
    func assertColor(_ c: Color, _ r: Double, _ g: Double, _ b: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(c.red, r, accuracy: 1e-6, file: file, line: line)
        XCTAssertEqual(c.green, g, accuracy: 1e-6, file: file, line: line)
        XCTAssertEqual(c.blue, b, accuracy: 1e-6, file: file, line: line)
    }

    func testViridisEndpointsAndMiddle() {
        XCTAssertEqual(Colormap.viridis.count, 256)
        assertColor(Colormap.viridis.color(at: 0), 0.267004, 0.004874, 0.329415)
        assertColor(Colormap.viridis.color(at: 1), 0.993248, 0.906157, 0.143936)
        assertColor(Colormap.viridis.color(at: 0.5), 0.127568, 0.566949, 0.550556)
        // Clamped outside 0…1, transparent for NaN.
        XCTAssertEqual(Colormap.viridis.color(at: -3), Colormap.viridis.color(at: 0))
        XCTAssertEqual(Colormap.viridis.color(at: .nan).alpha, 0)
    }

    func testRdBuEndpointsAreColorBrewers() {
        XCTAssertEqual(Colormap.rdBu.count, 256)
        // ColorBrewer RdBu-11: #67001f … #053061, white-ish #f7f7f7 in the middle.
        assertColor(Colormap.rdBu.color(at: 0), 0x67 / 255.0, 0, 0x1f / 255.0)
        assertColor(Colormap.rdBu.color(at: 1), 0x05 / 255.0, 0x30 / 255.0, 0x61 / 255.0)
        XCTAssertEqual(Colormap.rdBuReversed.color(at: 0), Colormap.rdBu.color(at: 1))
        let mid = Colormap.rdBu.color(at: 0.5)
        XCTAssertGreaterThan(min(mid.red, mid.green, mid.blue), 0.9)
    }

    func testTab10Cycle() {
        XCTAssertEqual(Color.tab10.count, 10)
        XCTAssertEqual(Color.cycle(0).rgba8.0, 0x1f)
        XCTAssertEqual(Color.cycle(11), Color.tabOrange)
        var p = Panel()
        p.plot([0, 1], [0, 1]); p.plot([0, 1], [1, 0], color: .black); p.plot([0, 1], [2, 2])
        guard case let .line(a) = p.marks[0], case let .line(b) = p.marks[1], case let .line(c) = p.marks[2] else {
            return XCTFail("expected lines")
        }
        XCTAssertEqual([a.color, b.color, c.color], [.tabBlue, .black, .tabOrange])
    }
}

import Foundation
