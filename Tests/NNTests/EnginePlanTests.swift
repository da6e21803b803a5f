import XCTest
import Tensor
@testable import NN

/// The engine plan: each layer in either layout, every implementation oneDNN offers against the Float64
/// reference, and how a plan chooses.
final class EnginePlanTests: XCTestCase {
    /// Every implementation oneDNN offers on this CPU for each pass of CIFAR's convolution shapes, in both
    /// layouts, against the Float64 reference: what a measured plan may choose must be as exact as the
    /// default. Prints each one's error (the numbers README quotes).
    func testEveryImplementationOneDNNOffersMatchesTheFloat64Reference() throws {
        let ctx = try DNNLContext()
        var checked = 0
        for block in [16, 8] {
            // (Ci, Co, H, stride): the three stages' convolutions and the two transitions.
            for (Ci, Co, H, s) in [(16, 16, 32, 1), (16, 32, 32, 2), (32, 32, 16, 1), (64, 64, 8, 1)] {
                let B = 2, Ho = H / s
                // The plan lists every implementation offered for each pass as it makes them.
                ActiveEnginePlan.install(EnginePlan(block: block), measuring: false)
                _ = try ConvPrimitives(context: ctx, batch: B, inChannels: Ci, outChannels: Co, inputSize: H, stride: s,
                                       hasBias: true, plainInput: false, needsDataGradient: true)
                let offered = ActiveEnginePlan.offered
                let x = randomDoubles(B * Ci * H * H, seed: 1), w = randomDoubles(Co * Ci * 9, seed: 2, scale: 0.2)
                let b = randomDoubles(Co, seed: 3), dy = randomDoubles(B * Co * Ho * Ho, seed: 4)
                var yRef: [Double] = [], dxRef: [Double] = [], dwRef: [Double] = [], dbRef: [Double] = []
                Reference.convForward(&yRef, x, w, b, B, Ci, H, H, Co, s)
                Reference.convBackward(&dxRef, &dwRef, &dbRef, dy, x, w, B, Ci, H, H, Co, s)
                for (key, candidates) in offered.sorted(by: { $0.key < $1.key }) {
                    // oneDNN's reference kernel is offered only where it has nothing else, over a layout the
                    // engine then leaves for the library's (`ConvLayoutChoice`), so it never runs.
                    for name in candidates where !name.hasPrefix("ref") {
                        ActiveEnginePlan.install(EnginePlan(block: block, convolutions: [key: name]), measuring: false)
                        let prim = try ConvPrimitives(context: ctx, batch: B, inChannels: Ci, outChannels: Co, inputSize: H,
                                                      stride: s, hasBias: true, plainInput: false, needsDataGradient: true)
                        let xb = blocked(x, B: B, C: Ci, HW: H * H), wb = FloatBuffer(w.map(Float.init)), bb = FloatBuffer(b.map(Float.init))
                        let dyb = blocked(dy, B: B, C: Co, HW: Ho * Ho), scratch = FloatBuffer(count: max(prim.scratchCount, 1))
                        let tag = "nChw\(block)c \(key) \(name)"
                        let errors: [(String, [Double], [Double])]
                        if key.hasPrefix("fwd") {
                            XCTAssertEqual(prim.forward.implementation, name, tag)
                            let yb = FloatBuffer(count: B * Co * Ho * Ho)
                            try prim.runForward(src: xb.pointer, weights: wb.pointer, bias: bb.pointer, dst: yb.pointer, scratch: scratch.pointer)
                            errors = [("forward", unblocked(yb, B: B, C: Co, HW: Ho * Ho), yRef)]
                        } else if key.hasPrefix("bwd-data") {
                            XCTAssertEqual(prim.backwardData?.implementation, name, tag)
                            let dxb = FloatBuffer(count: x.count)
                            try prim.runBackwardData(diffDst: dyb.pointer, weights: wb.pointer, diffSrc: dxb.pointer, scratch: scratch.pointer)
                            errors = [("backward-data", unblocked(dxb, B: B, C: Ci, HW: H * H), dxRef)]
                        } else {
                            XCTAssertEqual(prim.backwardWeights.implementation, name, tag)
                            let dwb = FloatBuffer(count: w.count), dbb = FloatBuffer(count: Co)
                            try prim.runBackwardWeights(src: xb.pointer, diffDst: dyb.pointer, diffWeights: dwb.pointer,
                                                        diffBias: dbb.pointer, scratch: scratch.pointer)
                            errors = [("backward-weights", dwb.array.map(Double.init), dwRef), ("backward-bias", dbb.array.map(Double.init), dbRef)]
                        }
                        withExtendedLifetime((xb, wb, bb, dyb, scratch)) {}
                        for (what, fast, ref) in errors {
                            let rel = maxAbsDiff(fast, ref) / max(maxAbs(ref), 1e-6)
                            print("IMPLEMENTATION OK \(tag) \(what): relative error \(rel)")
                            XCTAssertLessThan(rel, 1e-5, "\(tag) \(what)")
                        }
                        checked += 1
                    }
                }
            }
        }
        ActiveEnginePlan.install(.defaults, measuring: false)
        XCTAssertGreaterThanOrEqual(checked, 2 * 4 * 3, "every pass of every shape in both layouts")
    }

    func testAPlanKeepsOneDNNsChoiceUnlessAnotherIsClearlyFaster() {
        defer { ActiveEnginePlan.install(.defaults, measuring: false) }
        func choice(_ seconds: [Double], plan: EnginePlan = EnginePlan(block: 16), measuring: Bool = true) -> Int {
            ActiveEnginePlan.install(plan, measuring: measuring)
            return ActiveEnginePlan.choose(key: "k", candidates: ["a", "b", "c"]) { seconds[$0] }
        }
        XCTAssertEqual(choice([1.0, 0.97, 0.99]), 0, "within 5 %: oneDNN's first stays")
        XCTAssertEqual(choice([1.0, 0.9, 0.8]), 2)
        XCTAssertEqual(choice([1.0, 0.9, 0.88]), 1, "the third is not 5 % faster than the second")
        XCTAssertEqual(choice([1.0, 0.5, 0.5], measuring: false), 0, "not measuring: oneDNN's first")
        XCTAssertEqual(choice([1.0, 0.5, 0.5], plan: EnginePlan(block: 16, convolutions: ["k": "c"])), 2, "the plan's own entry")
        XCTAssertEqual(choice([1.0, 0.5, 0.5], plan: EnginePlan(block: 16, convolutions: ["k": "gone"]), measuring: false), 0,
                       "an entry this oneDNN does not offer: its first")
        ActiveEnginePlan.install(EnginePlan(block: 8), measuring: true)
        _ = ActiveEnginePlan.choose(key: "k", candidates: ["a", "b"]) { [1.0, 0.5][$0] }
        XCTAssertEqual(ActiveEnginePlan.current.convolutions, ["k": "b"], "a measured choice joins the plan")
        XCTAssertEqual(ActiveEnginePlan.measurements["k"], ["a": 1.0, "b": 0.5])
        XCTAssertEqual(Blocked.block, 8)
    }

    func testAPlanRoundTripsThroughJSONAndRefusesAnotherBlock() throws {
        let plan = EnginePlan(block: 8, convolutions: ["fwd b128 16→16 32px s1 k3": "jit:avx2"])
        XCTAssertEqual(try EnginePlan(json: plan.json), plan)
        XCTAssertThrowsError(try EnginePlan(json: #"{"block": 4, "convolutions": {}}"#)) { error in
            XCTAssertTrue("\(error)".contains("not 4"), "\(error)")
        }
    }

    func testTheLayoutMeasurementTimesBothLayouts() throws {
        let seconds = try EnginePlanMeasurement.layoutSeconds()
        XCTAssertEqual(Set(seconds.keys), [8, 16])
        XCTAssertTrue(seconds.values.allSatisfy { $0 > 0 && $0 < 1 }, "\(seconds)")
        XCTAssertEqual(EnginePlanMeasurement.chooseBlock([16: 1.0, 8: 0.97]), 16)
        XCTAssertEqual(EnginePlanMeasurement.chooseBlock([16: 1.0, 8: 0.9]), 8)
        XCTAssertEqual(Blocked.block, 16, "the measurement leaves the layout as it found it")
    }
}
