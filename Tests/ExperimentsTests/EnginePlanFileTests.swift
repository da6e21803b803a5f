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

    /// The first worker to meet a convolution measures it; every later one takes that choice without
    /// timing its own, and what is measured joins the file at once.
    func testTheFirstMeasurementOfAKeyIsEveryWorkersChoice() throws {
        let dir = try ExperimentFixtures.temporaryDirectory("engine-plans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.json")
        let empty = EnginePlanFile(cpu: "c", oneDNN: "2.6.3", threads: 1, plan: EnginePlan(block: 8), layoutSeconds: ["nChw8c": 0.01],
                                   measurements: [:])
        XCTAssertEqual(try EnginePlanFile.choice(for: "a", in: url, { empty }, measure: { .init(choice: "x", seconds: ["x": 1, "y": 2]) }), "x")
        XCTAssertEqual(try EnginePlanFile.choice(for: "a", in: url, { empty }, measure: {
            XCTFail("a key the file has is not measured again"); return .init(choice: "y", seconds: [:])
        }), "x")
        XCTAssertEqual(try EnginePlanFile.choice(for: "b", in: url, { empty }, measure: { .init(choice: "z", seconds: ["z": 1]) }), "z")
        let file = try XCTUnwrap(try EnginePlanFile.read(url))
        XCTAssertEqual(file.plan, EnginePlan(block: 8, convolutions: ["a": "x", "b": "z"]))
        XCTAssertEqual(file.measurements["a"], ["x": 1, "y": 2])
        XCTAssertEqual(file.layoutSeconds, ["nChw8c": 0.01])
    }

    /// Workers that meet one key together: one measures while the others wait for its choice (timings
    /// taken side by side would be noisy, and could part them).
    func testWorkersMeetingAKeyTogetherTakeOneMeasurement() throws {
        let dir = try ExperimentFixtures.temporaryDirectory("engine-plans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.json")
        let empty = EnginePlanFile(cpu: "c", oneDNN: "2.6.3", threads: 1, plan: EnginePlan(block: 8), layoutSeconds: [:], measurements: [:])
        let counter = NSLock()
        var measurements = 0
        var choices = [String](repeating: "", count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            choices[worker] = (try? EnginePlanFile.choice(for: "k", in: url, { empty }, measure: {
                counter.lock(); measurements += 1; counter.unlock()
                Thread.sleep(forTimeInterval: 0.05)
                return .init(choice: "impl-\(worker)", seconds: [:])
            })) ?? "error"
        }
        XCTAssertEqual(measurements, 1)
        XCTAssertEqual(Set(choices).count, 1, "\(choices)")
        XCTAssertTrue(choices[0].hasPrefix("impl-"), "\(choices)")
    }

    /// A new machine's plan is measured once; a file from before the bias-gradient choice gets it once.
    func testTheMachinePlanIsMadeOnceAndAnOldOneCompletedOnce() throws {
        let dir = try ExperimentFixtures.temporaryDirectory("engine-plans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.json")
        let made = EnginePlanFile(cpu: "c", oneDNN: "2.6.3", threads: 2, plan: EnginePlan(block: 8, biasGradient: .engine),
                                  layoutSeconds: ["nChw8c": 1], measurements: [:])
        XCTAssertEqual(try EnginePlanFile.machinePlan(at: url, measureLayout: { made }), made)
        XCTAssertEqual(try EnginePlanFile.machinePlan(at: url, measureLayout: { XCTFail("measured twice"); return made }), made)

        try Data(#"{"cpu": "c", "oneDNN": "2.6.3", "threads": 1, "plan": {"block": 8, "convolutions": {"a": "x"}}, "layoutSeconds": {}, "measurements": {}}"#.utf8)
            .write(to: url)
        let completed = try EnginePlanFile.machinePlan(at: url, measureBias: { _ in BiasGradientChoice(choice: .engine, seconds: ["onednn": 2, "engine": 1]) })
        XCTAssertEqual(completed.plan, EnginePlan(block: 8, convolutions: ["a": "x"], biasGradient: .engine))
        let again = try EnginePlanFile.machinePlan(at: url, measureBias: { _ in XCTFail("measured twice"); return BiasGradientChoice(choice: .oneDNN, seconds: [:]) })
        XCTAssertEqual(again.plan, completed.plan)
        XCTAssertEqual(try EnginePlanFile.read(url)?.biasGradientSeconds, ["onednn": 2, "engine": 1])
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
