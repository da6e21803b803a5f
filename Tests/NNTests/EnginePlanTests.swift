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
            for c in [ConvolutionCase(16, 16, 32, stride: 1, bias: true), ConvolutionCase(16, 32, 32, stride: 2, bias: true),
                      ConvolutionCase(32, 32, 16, stride: 1, bias: true), ConvolutionCase(64, 64, 8, stride: 1, bias: true)] {
                // The plan lists every implementation offered for each pass as it makes them.
                ActiveEnginePlan.install(EnginePlan(block: block), measuring: false)
                _ = try c.primitives(ctx)
                for (key, candidates) in ActiveEnginePlan.offered.sorted(by: { $0.key < $1.key }) {
                    // oneDNN's reference kernel is offered only where it has nothing else, over a layout the
                    // engine then leaves for the library's (`ConvLayoutChoice`), so it never runs.
                    for name in candidates where !name.hasPrefix("ref") {
                        ActiveEnginePlan.install(EnginePlan(block: block, convolutions: [key: name]), measuring: false)
                        let prim = try c.primitives(ctx)
                        let tag = "nChw\(block)c \(key) \(name)"
                        let pass: ConvolutionCase.Pass = key.hasPrefix("fwd") ? .forward : key.hasPrefix("bwd-data") ? .backwardData : .backwardWeights
                        let used = switch pass {
                        case .forward: prim.forward.implementation
                        case .backwardData: prim.backwardData?.implementation
                        case .backwardWeights: prim.backwardWeights.implementation
                        }
                        XCTAssertEqual(used, name, tag)
                        for (what, fast, ref) in try c.run(pass, on: prim) {
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
        XCTAssertEqual(Blocked.block, 8)
    }

    /// With a machine-wide choice, a key takes it; this process times nothing unless the share asks it to,
    /// and then hands the share its timings.
    func testASharedChoiceWinsOverTimingAgain() {
        defer { ActiveEnginePlan.install(.defaults, measuring: false) }
        ActiveEnginePlan.install(EnginePlan(block: 8), measuring: true, sharing: { _, _ in "c" })
        XCTAssertEqual(ActiveEnginePlan.choose(key: "k", candidates: ["a", "b", "c"]) { _ in XCTFail("timed"); return 1 }, 2)
        XCTAssertEqual(ActiveEnginePlan.current.convolutions, ["k": "c"])

        var handed: ActiveEnginePlan.Measured?
        ActiveEnginePlan.install(EnginePlan(block: 8), measuring: true, sharing: { _, measure in
            handed = try measure()
            return handed!.choice
        })
        XCTAssertEqual(ActiveEnginePlan.choose(key: "k", candidates: ["a", "b"]) { [1.0, 0.5][$0] }, 1)
        XCTAssertEqual(handed?.seconds, ["a": 1.0, "b": 0.5])
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
