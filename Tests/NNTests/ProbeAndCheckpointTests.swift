import XCTest
import ArrayFormats
import Tensor
@testable import NN

final class ProbeAndCheckpointTests: XCTestCase {
    func tinyModel(_ norm: Normalization = .batchNorm) throws -> ResNet {
        try ResNet(config: try ResNetConfig(depth: 8, normalization: norm, imageSize: 8), seed: 11)
    }

    func testSameSeedSameNumbers() throws {
        let batch = syntheticBatch(size: 8, imageSize: 8, seed: 1)
        var results: [(Double, [Float])] = []
        for _ in 0..<2 {
            let m = try tinyModel()
            let l = try m.forward(images: batch.images, labels: batch.labels)
            try m.backward()
            results.append((l, m.gradientVector()))
        }
        XCTAssertEqual(results[0].0.bitPattern, results[1].0.bitPattern)
        XCTAssertEqual(results[0].1, results[1].1)
    }

    func testInterpolationAndPlainStep() throws {
        let m = try tinyModel(.none)
        let batch = syntheticBatch(size: 8, imageSize: 8, seed: 2)
        let l0 = try m.forward(images: batch.images, labels: batch.labels)
        try m.backward()
        let theta = m.parameterVector(), g = m.gradientVector()
        try m.setParameters(base: theta, plus: 0, times: g)
        XCTAssertEqual(try m.forward(images: batch.images, labels: batch.labels), l0)
        // A small plain step along −∇L lowers the loss by about size·|∇L|².
        let size: Float = 1e-3
        m.plainGradientStep(size: size)
        let l1 = try m.forward(images: batch.images, labels: batch.labels)
        let g2 = g.reduce(0.0) { $0 + Double($1) * Double($1) }
        XCTAssertLessThan(l1, l0)
        XCTAssertEqual(l0 - l1, Double(size) * g2, accuracy: 0.2 * Double(size) * g2)
        // The same point through setParameters(base:plus:times:).
        try m.setParameters(base: theta, plus: -size, times: g)
        XCTAssertEqual(try m.forward(images: batch.images, labels: batch.labels), l1, accuracy: 1e-6)
    }

    func testProbesByLayerNumber() throws {
        let m = try tinyModel()
        let batch = syntheticBatch(size: 4, imageSize: 8, seed: 3)
        try m.forward(images: batch.images, labels: batch.labels)
        let caps = try m.backward(captureOutputGradients: [5])
        // BN output in training mode: mean β (= 0 at init), variance γ²σ²/(σ²+ε) ≈ 1.
        let n = try m.channelMoments(layer: 5, at: .normalized)
        XCTAssertEqual(n.mean.count, 32)
        for (mu, v) in zip(n.mean, n.variance) { XCTAssertEqual(mu, 0, accuracy: 1e-4); XCTAssertEqual(v, 1, accuracy: 1e-3) }
        let logitMoments = try m.channelMoments(layer: 8)
        XCTAssertEqual(logitMoments.mean.count, 10)
        XCTAssertThrowsError(try m.channelMoments(layer: 9))
        XCTAssertEqual(try m.weightGradient(layer: 5).shape, [32, 32, 3, 3])
        XCTAssertEqual(try m.weightGradient(layer: 8).shape, [10, 64])
        XCTAssertEqual(try m.convInput(layer: 4).shape, [4, 16, 8, 8])
        XCTAssertEqual(try m.convInput(layer: 1).shape, [4, 3, 8, 8])
        XCTAssertEqual(try m.logitGradients().shape, [4, 10])
        XCTAssertEqual(try m.perSampleLosses().count, 4)
        // Eq. 4: Σ_{b,x,y} ∂L/∂O[b,o,x,y]·I[b,i,x+x',y+y'] is the weight gradient.
        let dO = try XCTUnwrap(caps[5]), I = try m.convInput(layer: 5), dW = try m.weightGradient(layer: 5)
        var worst: Float = 0
        for (o, i) in [(0, 0), (3, 7), (31, 31)] { for ky in 0..<3 { for kx in 0..<3 {
            var s: Float = 0
            for b in 0..<4 { for y in 0..<4 { for x in 0..<4 {
                let iy = y + ky - 1, ix = x + kx - 1
                if iy < 0 || iy >= 4 || ix < 0 || ix >= 4 { continue }
                s += dO[b, o, y, x] * I[b, i, iy, ix]
            } } }
            worst = max(worst, abs(s - dW[o, i, ky, kx]))
        } } }
        print("TENSOR OK Eq. 4 summands vs weight gradient: maxdiff = \(worst)")
        XCTAssertLessThan(worst, 1e-5)
    }

    func testCheckpointRoundTrip() throws {
        let m = try tinyModel()
        let batch = syntheticBatch(size: 4, imageSize: 8, seed: 4)
        var t = Trainer(model: m, schedule: LearningRateSchedule(base: 0.1))
        try t.trainStep(batch, totalSteps: 10)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try m.saveCheckpoint(to: url, metadata: ["note": "test"])
        let file = try SafeTensors.read(from: url)
        XCTAssertEqual(try file.tensor("layer3.conv.weight").shape, [16, 16, 3, 3])
        XCTAssertEqual(try file.tensor("layer8.linear.weight").shape, [10, 64])
        XCTAssertNotNil(file.tensors["layer7.bn.running_var"])
        XCTAssertEqual(file.metadata["note"], "test")
        let back = try ResNet(checkpointAt: url)
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.parameterVector(), m.parameterVector())
        XCTAssertEqual(back.runningStatsVector(), m.runningStatsVector())
        let a = try m.forward(images: batch.images, labels: batch.labels, mode: .inference)
        let b = try back.forward(images: batch.images, labels: batch.labels, mode: .inference)
        XCTAssertEqual(a, b)
    }

    func testEvaluationPadsTheLastBatch() throws {
        let m = try tinyModel()
        let data = syntheticBatch(size: 10, imageSize: 8, seed: 5)
        let a = try m.evaluate(images: data.images, labels: data.labels, batchSize: 4)
        let b = try m.evaluate(images: data.images, labels: data.labels, batchSize: 10)
        XCTAssertEqual(a.count, 10)
        XCTAssertEqual(a.accuracy, b.accuracy)
        XCTAssertEqual(a.meanLoss, b.meanLoss, accuracy: 1e-5)
    }

    func testErrorsAreActionable() throws {
        XCTAssertThrowsError(try ResNetConfig(depth: 21, normalization: .none)) { e in
            XCTAssertTrue("\(e)".contains("6n+2"))
        }
        let m = try tinyModel()
        XCTAssertThrowsError(try m.forward(images: [0, 1], labels: [1] as [Int32]))
        XCTAssertThrowsError(try m.forward(images: [Float](repeating: 0, count: 192), labels: [10] as [Int32]))
        XCTAssertThrowsError(try m.backward())
    }

    func testLayerNumberingOfResNet110() throws {
        let c = try ResNetConfig(depth: 110, normalization: .batchNorm)
        let convs = c.convLayers
        XCTAssertEqual(convs.count, 109)
        XCTAssertEqual(convs[7].outChannels, 16)    // layer 8
        XCTAssertEqual(convs[43].outChannels, 32)   // layer 44
        XCTAssertEqual(convs[79].outChannels, 64)   // layer 80
        XCTAssertEqual(convs[37].stride, 2)         // layer 38: first conv of stage 2
        XCTAssertEqual(convs[54].inChannels, 32)    // layer 55: 32→32
        XCTAssertEqual(c.linearLayer, 110)
    }
}
