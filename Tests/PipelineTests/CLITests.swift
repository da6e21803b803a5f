@testable import BNReproCLI
import Foundation
import XCTest

/// The inspection verbs on a small cached pipeline.
final class CLITests: XCTestCase {
    func testShowListCatDag() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run"])
        let show = try box.run(["show", "m@bn=false,lr=0.0001"])
        for expected in ["kind     test-write (version 1)", "\"lr\": 0.0001", "status   up to date", "out.txt  1 B",
                         "time     wall", "executor local", "│ writing 1 characters"] {
            XCTAssertTrue(show.out.contains(expected), "missing \(expected) in\n\(show.out)")
        }
        let ls = try box.run(["ls"])
        XCTAssertTrue(ls.out.contains("7 records, 13 outputs"), ls.out)
        XCTAssertTrue(ls.out.contains("*  c "), ls.out)
        XCTAssertEqual(try box.run(["cat", "c:out.txt"]).out, "A+B\n")
        let params = try box.run(["cat", "a:params.json"])
        XCTAssertTrue(params.out.contains("\"text\": \"A\""), params.out)
        let missing = try box.run(["cat", "a:nope"])
        XCTAssertTrue(missing.err.contains("has no output 'nope'; it has: out.txt, params.json"), missing.err)
        let dag = try box.run(["dag"])
        XCTAssertTrue(dag.out.contains("c  (test-concat v1)  ← a, b"), dag.out)
        let dot = try box.run(["dag", "--dot"])
        XCTAssertTrue(dot.out.contains("\"a\" -> \"c\";"), dot.out)
    }

    /// `status --times`: a row per up-to-date stage with its recorded wall and CPU time, longest first, and
    /// the total; stages not up to date are counted, not timed.
    func testStatusTimes() throws {
        let box = try Sandbox(basicPipeline)
        try box.run(["run", "a"])
        let out = try box.run(["status", "--times"]).out
        let rows = out.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.contains("CPU/wall") }
        XCTAssertEqual(rows.map { $0.split(separator: " ")[0] }, ["a"], out)
        XCTAssertTrue(rows[0].contains("test-write"), out)
        XCTAssertTrue(out.contains("1 up-to-date stages: wall "), out)
        XCTAssertTrue(out.contains("6 not up to date (no time counted)"), out)
    }

    func testCatSummarisesNPY() throws {
        // A float32 .npy written by hand: header then four values.
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data += Data(header.utf8)
        for v: Float in [1, -2, 3.5, 4] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += Data($0) } }
        let box = try Sandbox(basicPipeline)
        let file = box.directory.appendingPathComponent("x.npy")
        try data.write(to: file)
        let summary = try CatCommand.render(file, name: "x.npy")
        XCTAssertTrue(summary.contains("dtype float32, shape (2, 2), 4 values"), summary)
        XCTAssertTrue(summary.contains("min -2, max 4, mean 1.625"), summary)
    }

    func testCatSummarisesSafeTensors() throws {
        let box = try Sandbox(#"{"stages": [{"name": "t", "kind": "test-tensors", "params": {"scale": 0.5, "note": "hello"}}]}"#)
        XCTAssertEqual(try box.run(["run"]).status, 0)
        let cat = try box.run(["cat", "t:weights.safetensors"])
        XCTAssertEqual(cat.status, 0, cat.all)
        XCTAssertEqual(cat.out, """
            metadata:
              note: hello
            tensors:
              b  F64  shape ()  1 values  min -0.5, max -0.5, mean -0.5
              w  F32  shape (2, 3)  6 values  min 0.5, max 3, mean 1.75

            """)
        // A hostile file is an error that names it, not a crash.
        let hostile = box.directory.appendingPathComponent("hostile.safetensors")
        let header = #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        try Data((0..<8).map { UInt8(truncatingIfNeeded: header.utf8.count >> (8 * $0)) } + Array(header.utf8) + [UInt8](repeating: 0, count: 8))
            .write(to: hostile)
        XCTAssertThrowsError(try CatCommand.render(hostile, name: "hostile.safetensors")) { error in
            XCTAssertEqual("\(error)", "\(hostile.path): tensor 'w' has shape [4294967296, 4294967296], with more elements than an Int can count")
        }
    }
}

/// `show`'s line for a record's engine plan.
final class ShowEnginePlanTests: XCTestCase {
    func testThePlanLineCountsEachImplementation() {
        let json = #"{"block":8,"convolutions":{"a":"jit:avx2","b":"jit:avx2","c":"jit_1x1:avx2"}}"#
        XCTAssertEqual(ShowCommand.describe(enginePlan: json), "nChw8c; 3 convolution passes: jit:avx2 ×2, jit_1x1:avx2 ×1")
        XCTAssertEqual(ShowCommand.describe(enginePlan: #"{"block":16,"convolutions":{}}"#), "nChw16c; 0 convolution passes")
        XCTAssertTrue(ShowCommand.describe(enginePlan: "{").hasPrefix("plan unreadable"))
    }
}
