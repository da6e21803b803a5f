@testable import Experiments
import Foundation
import NN
import XCTest

/// The machine's engine plan file: where it lives, what it is keyed by, and how workers share it.
final class EnginePlanFileTests: XCTestCase {
    /// No thread count in the name: one plan per machine, so a stage's bits do not depend on `-j`.
    func testTheFileNameSaysTheMachineAndOneDNN() {
        XCTAssertEqual(EnginePlanFile.name(cpu: "AMD EPYC family 25 model 1 avx2", oneDNN: "2.6.3"),
                       "AMD_EPYC_family_25_model_1_avx2_onednn-2.6.3.json")
    }

    func testThePlansLiveInTheUsersCacheUnlessTold() {
        let cache = URL(fileURLWithPath: "/p/data/cache")
        XCTAssertEqual(EnginePlanFile.directory(cache: cache, environment: ["HOME": "/home/u"])?.path, "/home/u/.cache/bnrepro/engine-plans")
        XCTAssertEqual(EnginePlanFile.directory(cache: cache, environment: ["HOME": "/home/u", "XDG_CACHE_HOME": "/x"])?.path,
                       "/x/bnrepro/engine-plans")
        XCTAssertEqual(EnginePlanFile.directory(cache: cache, environment: ["HOME": "/home/u", "BNREPRO_ENGINE_PLANS": "/plans"])?.path, "/plans")
        XCTAssertEqual(EnginePlanFile.directory(cache: cache, environment: [:])?.path, "/p/data/cache/engine-plans")
        XCTAssertNil(EnginePlanFile.directory(cache: nil, environment: [:]), "outside a pipeline, without a home directory, nowhere")
    }

    /// Two workers that measured the same convolution: the first to write keeps its choice, and what
    /// either measured alone joins the file.
    func testMergingKeepsTheFirstChoiceAndAddsNewOnes() throws {
        let dir = try ExperimentFixtures.temporaryDirectory("engine-plans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.json")
        let empty = EnginePlanFile(cpu: "c", oneDNN: "2.6.3", threads: 1, plan: EnginePlan(block: 8), layoutSeconds: ["nChw8c": 0.01],
                                   measurements: [:])
        try EnginePlanFile.merge(into: url, { empty }, measurements: ["a": ["x": 1, "y": 2]], chosen: ["a": "x"])
        try EnginePlanFile.merge(into: url, { empty }, measurements: ["a": ["x": 2, "y": 1], "b": ["z": 1]], chosen: ["a": "y", "b": "z"])
        let file = try XCTUnwrap(try EnginePlanFile.read(url))
        XCTAssertEqual(file.plan, EnginePlan(block: 8, convolutions: ["a": "x", "b": "z"]))
        XCTAssertEqual(file.measurements["a"], ["x": 1, "y": 2])
        XCTAssertEqual(file.layoutSeconds, ["nChw8c": 0.01])
    }

    /// A file from before the bias-gradient choice gets it from the first worker that measured it; a later
    /// measurement does not overturn it.
    func testAnOldFileGainsTheBiasGradientChoiceOnce() throws {
        let dir = try ExperimentFixtures.temporaryDirectory("engine-plans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.json")
        try Data(#"{"cpu": "c", "oneDNN": "2.6.3", "threads": 1, "plan": {"block": 8, "convolutions": {"a": "x"}}, "layoutSeconds": {}, "measurements": {}}"#.utf8)
            .write(to: url)
        let old = try XCTUnwrap(try EnginePlanFile.read(url))
        XCTAssertNil(old.plan.biasGradient)
        try EnginePlanFile.merge(into: url, { old }, measurements: [:], chosen: [:],
                                 biasGradient: BiasGradientChoice(choice: .engine, seconds: ["onednn": 2, "engine": 1]))
        try EnginePlanFile.merge(into: url, { old }, measurements: [:], chosen: [:],
                                 biasGradient: BiasGradientChoice(choice: .oneDNN, seconds: ["onednn": 1, "engine": 2]))
        let file = try XCTUnwrap(try EnginePlanFile.read(url))
        XCTAssertEqual(file.plan, EnginePlan(block: 8, convolutions: ["a": "x"], biasGradient: .engine))
        XCTAssertEqual(file.biasGradientSeconds, ["onednn": 2, "engine": 1])
    }

    func testAnUnreadablePlanNamesItsFileAndTheRemedy() throws {
        let dir = try ExperimentFixtures.temporaryDirectory("engine-plans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.json")
        try Data("{ not json".utf8).write(to: url)
        XCTAssertThrowsError(try EnginePlanFile.read(url)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("delete it"), "\(error)")
        }
    }
}
