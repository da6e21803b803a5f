import ArrayFormats
import Foundation
import NN
@testable import Pipeline
import XCTest
@testable import Experiments

final class InitStageTests: XCTestCase {
    private var fixture: AnalysisFixture!
    override func setUpWithError() throws { fixture = try AnalysisFixture("init") }
    override func tearDownWithError() throws { fixture.remove() }

    func testCheckpointsHoldTheWeightsTheAnalysesUse() throws {
        let c = try fixture.run("init", InitStage(), [("depth", 8), ("seed", 3)])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: c.outputDirectory.path)),
                       ["resnet8-bn.safetensors", "resnet8-nobn.safetensors", "init.json", "claims.json"])
        for variant in NetworkVariant.both {
            let loaded = try ResNet(checkpointAt: c.output("resnet8-\(variant.key).safetensors"))
            XCTAssertEqual(loaded.config.normalization, variant.normalization)
            let analysis = try fixture.context("a", GradientHistogramStage(), [("depth", 8), ("seed", 3)])
            XCTAssertEqual(loaded.parameterVector(), try AnalysisSetup.network(try analysis.params(NetworkParams.self), normalization: variant.normalization).parameterVector())
            let file = try SafeTensors.read(from: c.output("resnet8-\(variant.key).safetensors"))
            XCTAssertEqual(file.metadata["seed"], "3")
            XCTAssertEqual(try file.tensor("layer5.conv.weight").shape, [32, 32, 3, 3])
        }
        let summary = try readJSON([String: InitStage.NetworkSummary].self, c.output(InitStage.resultFile))
        let layer1 = try XCTUnwrap(summary["nobn"]?.layers.first)
        XCTAssertEqual(layer1.std, layer1.targetStd, accuracy: 0.2 * layer1.targetStd, "432 He-normal weights")
    }
}
