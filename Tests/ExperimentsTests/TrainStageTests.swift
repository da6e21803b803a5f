import ArrayFormats
import Datasets
import Foundation
import NN
@testable import Experiments
@testable import Pipeline
import XCTest

/// `train` on a depth-8 network and small learnable data: learning, divergence as a result, resuming.
final class TrainStageTests: XCTestCase {
    private var dir: URL!
    override func setUpWithError() throws { dir = try ExperimentFixtures.temporaryDirectory("train") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func decode() throws -> StageInputs {
        try ExperimentFixtures.decodeInput(try ExperimentFixtures.learnableData(train: 320, test: 100), in: dir)
    }

    func testABNNetLearnsOverACoupleOfEpochs() throws {
        let ctx = try ExperimentFixtures.context("train", TrainStage(), [
            ("depth", 8), ("batchSize", 32), ("lr", 0.05), ("epochs", 3), ("evaluationsPerEpoch", 2),
        ], inputs: [try decode()], in: dir)
        try TrainStage().run(ctx)
        let m = try ResultJSON.read(TrainMetrics.self, from: ctx.output(TrainStage.resultFile))
        XCTAssertFalse(m.diverged)
        XCTAssertNil(m.divergenceStep)
        XCTAssertEqual(m.stepsPerEpoch, 10)
        XCTAssertEqual(m.totalSteps, 30)
        XCTAssertEqual(m.evaluations.map(\.step), [5, 10, 15, 20, 25, 30])
        XCTAssertEqual(m.evaluations.last?.percentOfTraining, 100)
        // The rate of the step before each evaluation: ÷10 from 50 % (step 15 of 30), again from 75 % (step 23).
        for (e, expected) in zip(m.evaluations, [0.05, 0.05, 0.05, 0.005, 0.0005, 0.0005]) {
            XCTAssertEqual(e.learningRate, expected, accuracy: expected * 1e-5, "step \(e.step)")
        }
        let first = try XCTUnwrap(m.evaluations.first), last = try XCTUnwrap(m.evaluations.last)
        XCTAssertGreaterThan(last.trainAccuracy, first.trainAccuracy)
        XCTAssertGreaterThan(last.trainAccuracy, 0.6, "\(m.evaluations.map(\.trainAccuracy))")
        XCTAssertGreaterThan(last.testAccuracy, 0.5, "\(m.evaluations.map(\.testAccuracy))")
        XCTAssertLessThan(last.trainLoss, first.trainLoss)
        let losses = try NPY.read(from: ctx.output(TrainStage.stepLosses)).float32Values()
        XCTAssertEqual(losses.count, 30)
        let model = try ResNet(checkpointAt: ctx.output(TrainStage.checkpoint))
        XCTAssertEqual(model.config.depth, 8)
        let csv = try String(contentsOf: ctx.output(TrainStage.metricsCSV), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 7)
    }

    /// The plateau both ways: the learnable data is learnt to ≥ 95 % clean training accuracy in a few
    /// epochs; the same run with a rate too small to move records "not at plateau". Both endpoints are
    /// measured on every training and test image.
    func testTheEndpointRecordsWhetherTheRunReachedItsPlateau() throws {
        func run(_ name: String, lr: Double) throws -> TrainMetrics {
            let ctx = try ExperimentFixtures.context(name, TrainStage(), [
                ("depth", 8), ("batchSize", 32), ("lr", .number(lr)), ("epochs", 6), ("drops", [0.75]),
            ], inputs: [try decode()], in: dir)
            try TrainStage().run(ctx)
            return try ResultJSON.read(TrainMetrics.self, from: ctx.output(TrainStage.resultFile))
        }
        let learnt = try run("learns", lr: 0.05), stuck = try run("stuck", lr: 1e-6)
        let e = try XCTUnwrap(learnt.endpoint), s = try XCTUnwrap(stuck.endpoint)
        XCTAssertEqual(e.trainImages, 320)
        XCTAssertEqual(e.testImages, 100)
        XCTAssertTrue(learnt.reachedPlateau, "clean train accuracy \(e.trainAccuracy)")
        XCTAssertGreaterThanOrEqual(e.trainAccuracy, 0.95)
        XCTAssertFalse(stuck.reachedPlateau, "clean train accuracy \(s.trainAccuracy)")
        XCTAssertLessThan(s.trainAccuracy, 0.95)
        XCTAssertEqual(e.plateauAccuracy, 0.95)
    }

    func testANoBNRunAtAHugeRateIsRecordedAsDiverged() throws {
        let ctx = try ExperimentFixtures.context("train", TrainStage(), [
            ("depth", 8), ("batchSize", 32), ("bn", false), ("lr", 50.0), ("epochs", 2),
        ], inputs: [try decode()], in: dir)
        try TrainStage().run(ctx)
        let m = try ResultJSON.read(TrainMetrics.self, from: ctx.output(TrainStage.resultFile))
        XCTAssertTrue(m.diverged)
        let step = try XCTUnwrap(m.divergenceStep)
        XCTAssertLessThan(step, 20)
        XCTAssertTrue(!(m.divergenceLoss ?? 0).isFinite || (m.divergenceLoss ?? 0) > 1e3)
        // Losses of the steps taken before it, and the weights before the divergent step.
        XCTAssertEqual(try NPY.read(from: ctx.output(TrainStage.stepLosses)).float32Values().count, step)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ctx.output(TrainStage.checkpoint).path))
    }

    func testAKilledRunResumesFromItsLastEvaluationWithTheSameResult() throws {
        let input = try decode()
        let params: [(String, JSONValue)] = [("depth", 8), ("batchSize", 32), ("lr", 0.05), ("epochs", 2), ("evaluationsPerEpoch", 2)]
        let whole = try ExperimentFixtures.context("whole", TrainStage(), params, inputs: [input], in: dir)
        try TrainStage().run(whole)
        let reference = try ResultJSON.read(TrainMetrics.self, from: whole.output(TrainStage.resultFile))

        // A run whose partials are snapshotted after its first evaluation: what a run killed there leaves.
        let partials = dir.appendingPathComponent("killed/partials"), snapshot = dir.appendingPathComponent("snapshot")
        let first = try ExperimentFixtures.context("killed", TrainStage(), params, inputs: [input], in: dir, partials: partials) { _ in
            if !FileManager.default.fileExists(atPath: snapshot.path) { try? FileManager.default.copyItem(at: partials, to: snapshot) }
        }
        try TrainStage().run(first)
        let state = try ResultJSON.read(TrainResumeState.self, from: snapshot.appendingPathComponent(TrainResumeState.stateFile))
        XCTAssertEqual(state.step, 5)

        let resumed = try ExperimentFixtures.context("resumed", TrainStage(), params, inputs: [input], in: dir, partials: snapshot)
        // Same stage key as the killed run (the context helper names keys by stage): rename the state's key.
        var fixed = state
        fixed.key = resumed.key
        try ResultJSON.write(fixed, to: snapshot.appendingPathComponent(TrainResumeState.stateFile))
        try TrainStage().run(resumed)
        let m = try ResultJSON.read(TrainMetrics.self, from: resumed.output(TrainStage.resultFile))
        XCTAssertEqual(m.evaluations.count, reference.evaluations.count)
        for (a, b) in zip(m.evaluations, reference.evaluations) {
            XCTAssertEqual(a.step, b.step)
            XCTAssertEqual(a.testAccuracy, b.testAccuracy, accuracy: 0.02)
            XCTAssertEqual(a.testLoss, b.testLoss, accuracy: 1e-3 * max(1, b.testLoss))
        }
        let lossesA = try NPY.read(from: resumed.output(TrainStage.stepLosses)).float32Values()
        let lossesB = try NPY.read(from: whole.output(TrainStage.stepLosses)).float32Values()
        XCTAssertEqual(lossesA.count, lossesB.count)
        for (a, b) in zip(lossesA, lossesB) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, b)) }

        // A state of another stage key is ignored: the run starts from scratch.
        XCTAssertNil(TrainResumeState.load(key: "other", from: snapshot))
    }

    /// SIGTERM (a time limit, scancel) between evaluations: the run saves a resume point at that step,
    /// with the train-accuracy tallies so far, and the next run continues from there to the same result.
    func testASIGTERMBetweenEvaluationsSavesAResumePointAndTheRunContinuesFromIt() throws {
        let input = try decode()
        // 320 images in batches of 32: 10 steps per epoch, one evaluation per epoch.
        let params: [(String, JSONValue)] = [("depth", 8), ("batchSize", 32), ("lr", 0.05), ("epochs", 2), ("checkpointMinutes", 0)]
        let whole = try ExperimentFixtures.context("whole", TrainStage(), params, inputs: [input], in: dir)
        try TrainStage().run(whole)
        let reference = try ResultJSON.read(TrainMetrics.self, from: whole.output(TrainStage.resultFile))

        let partials = dir.appendingPathComponent("stopped/partials")
        let stopped = try ExperimentFixtures.context("stopped", TrainStage(), params, inputs: [input], in: dir, partials: partials)
        GracefulStop.polls = 0
        GracefulStop.requestAtPoll = 13   // after step 13: three steps into the second epoch
        XCTAssertThrowsError(try TrainStage().run(stopped)) { error in
            XCTAssertEqual((error as? GracefulStop.Stopped)?.step, 13, "\(error)")
        }
        XCTAssertFalse(GracefulStop.isRequested, "the request is consumed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopped.output(TrainStage.resultFile).path), "a stopped run writes no result")
        let state = try ResultJSON.read(TrainResumeState.self, from: partials.appendingPathComponent(TrainResumeState.stateFile))
        XCTAssertEqual(state.step, 13)
        XCTAssertEqual(state.evaluations.count, 1)
        XCTAssertEqual(state.stepLosses.count, 13)
        XCTAssertEqual(state.pending?.seen, 96, "three mini-batches of the second epoch counted so far")

        let again = try ExperimentFixtures.context("stopped", TrainStage(), params, inputs: [input], in: dir, partials: partials)
        try TrainStage().run(again)
        let m = try ResultJSON.read(TrainMetrics.self, from: again.output(TrainStage.resultFile))
        XCTAssertEqual(m.evaluations.map(\.step), reference.evaluations.map(\.step))
        for (a, b) in zip(m.evaluations, reference.evaluations) {
            XCTAssertEqual(a.trainAccuracy, b.trainAccuracy, accuracy: 0.02, "the tallies before the stop are kept")
            XCTAssertEqual(a.testAccuracy, b.testAccuracy, accuracy: 0.02)
            XCTAssertEqual(a.testLoss, b.testLoss, accuracy: 1e-3 * max(1, b.testLoss))
        }
        let lossesA = try NPY.read(from: again.output(TrainStage.stepLosses)).float32Values()
        let lossesB = try NPY.read(from: whole.output(TrainStage.stepLosses)).float32Values()
        XCTAssertEqual(lossesA.count, 20)
        for (a, b) in zip(lossesA, lossesB) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, b)) }
    }
}
