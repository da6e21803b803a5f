import Foundation
import XCTest
@testable import ArrayFormats

final class NPYTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testHeaderIsAlignedAndRoundTripsEveryDType() throws {
        let arrays = [
            try NPYArray(uint8: [0, 1, 255, 7, 8, 9], shape: [2, 3]),
            try NPYArray(int32: [-2_147_483_648, -1, 0, 1, 2_147_483_647], shape: [5]),
            try NPYArray(float32: [1.5, -0.0, .infinity, 3.25e-8], shape: [2, 1, 2]),
            try NPYArray(float64: [Double.pi, -1e300], shape: [2]),
            try NPYArray(float32: [42], shape: []),
            try NPYArray(uint8: [], shape: [0, 3]),
        ]
        for a in arrays {
            let bytes = NPY.encode(a)
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0, "data must start 64-byte aligned")
            XCTAssertEqual(bytes[10 + headerLength - 1], 0x0A)
            XCTAssertEqual(try NPY.decode(bytes), a)
        }
        XCTAssertEqual(try arrays[1].int32Values(), [-2_147_483_648, -1, 0, 1, 2_147_483_647])
        XCTAssertEqual(try arrays[2].float32Values(), [1.5, -0.0, .infinity, 3.25e-8])
        XCTAssertEqual(try arrays[3].float64Values(), [Double.pi, -1e300])
    }

    func testNumpyLoadsWhatWeWriteAndWeLoadWhatNumpyWrites() throws {
        let (probe, _) = try runPython("import numpy", "")
        try XCTSkipUnless(probe == 0, "needs python3 with numpy (apt-get install python3-numpy)")
        let u8 = try NPYArray(uint8: (0..<24).map { UInt8($0 * 10) }, shape: [2, 3, 4])
        let i32 = try NPYArray(int32: [-5, 0, 70_000], shape: [3])
        let f32 = try NPYArray(float32: [0.5, -2.25, 1e-3, 4], shape: [2, 2])
        let f64 = try NPYArray(float64: [1.0 / 3.0], shape: [1])
        for (name, a) in [("u8", u8), ("i32", i32), ("f32", f32), ("f64", f64)] {
            try NPY.write(a, to: dir.appendingPathComponent("\(name).npy"))
        }
        let script = """
        import numpy as np, sys
        d = sys.argv[1]
        a = np.load(d + '/u8.npy'); assert a.dtype == np.uint8 and a.shape == (2, 3, 4), a
        assert (a.ravel() == np.arange(24) * 10).all()
        b = np.load(d + '/i32.npy'); assert b.dtype == np.int32 and list(b) == [-5, 0, 70000]
        c = np.load(d + '/f32.npy'); assert c.dtype == np.float32 and c.shape == (2, 2)
        assert c.tolist() == [[0.5, -2.25], [np.float32(1e-3).item(), 4.0]]
        e = np.load(d + '/f64.npy'); assert e.dtype == np.float64 and e[0] == 1.0 / 3.0
        np.save(d + '/from_numpy.npy', np.arange(12, dtype='<f4').reshape(3, 4) / 8)
        np.save(d + '/from_numpy_u8.npy', np.array([[1, 2], [3, 250]], dtype=np.uint8))
        print('ok')
        """
        let (status, output) = try runPython(script, dir.path)
        XCTAssertEqual(status, 0, output)
        let back = try NPY.read(from: dir.appendingPathComponent("from_numpy.npy"))
        XCTAssertEqual(back.shape, [3, 4])
        XCTAssertEqual(try back.float32Values(), (0..<12).map { Float($0) / 8 })
        let backU8 = try NPY.read(from: dir.appendingPathComponent("from_numpy_u8.npy"))
        XCTAssertEqual(try backU8.uint8Values(), [1, 2, 3, 250])
        XCTAssertEqual(backU8.shape, [2, 2])
    }

    func testRejectsBadInputWithClearErrors() throws {
        XCTAssertThrowsError(try NPY.decode(Array("not numpy at all".utf8))) { error in
            XCTAssertEqual(error as? NPYError, .notNPY("missing the \\x93NUMPY magic"))
        }
        let good = NPY.encode(try NPYArray(uint8: [1, 2, 3, 4], shape: [4]))
        XCTAssertThrowsError(try NPY.decode(Array(good.dropLast()))) { error in
            XCTAssertEqual(error as? NPYError, .sizeMismatch(expectedBytes: 4, gotBytes: 3))
        }
        var bigEndian = good
        let text = String(decoding: bigEndian[10..<74], as: UTF8.self).replacingOccurrences(of: "|u1", with: ">i4")
        bigEndian.replaceSubrange(10..<74, with: Array(text.utf8))
        XCTAssertThrowsError(try NPY.decode(bigEndian)) { error in
            XCTAssertEqual(error as? NPYError, .unsupportedDType(">i4"))
        }
        var fortran = good
        let ftext = String(decoding: fortran[10..<74], as: UTF8.self)
            .replacingOccurrences(of: "'fortran_order': False", with: "'fortran_order': True ")
        fortran.replaceSubrange(10..<74, with: Array(ftext.utf8))
        XCTAssertThrowsError(try NPY.decode(fortran)) { XCTAssertEqual($0 as? NPYError, .fortranOrder) }
        XCTAssertThrowsError(try NPYArray(uint8: [1, 2, 3], shape: [2, 2]))
        XCTAssertThrowsError(try NPYArray(uint8: [1], shape: [1]).float32Values()) { error in
            XCTAssertEqual(error as? NPYError, .wrongDType(expected: .float32, got: .uint8))
        }
    }

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let url = dir.appendingPathComponent("a.npy")
        try NPY.write(try NPYArray(uint8: [1], shape: [1]), to: url)
        try NPY.write(try NPYArray(uint8: [2, 3], shape: [2]), to: url)
        XCTAssertEqual(try NPY.read(from: url).bytes, [2, 3])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.npy"])
    }

    private func runPython(_ script: String, _ arg: String) throws -> (Int32, String) {
        let p = Process()
        // Through env, so that the python3 on PATH (the one with numpy, if any) is used.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, arg]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}
