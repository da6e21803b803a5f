import XCTest
import Tensor
@testable import NN

/// The fast (oneDNN, float32, blocked) ResNet against the Float64 reference on a tiny net (n = 1, 8×8 images).
final class ResNetFastVsReferenceTests: XCTestCase {
    func check(_ norm: Normalization, file: StaticString = #filePath, line: UInt = #line) throws {
        let config = try ResNetConfig(depth: 8, normalization: norm, imageSize: 8)
        let B = 4
        let model = try ResNet(config: config, seed: 7)
        // Non-trivial BN affine parameters and biases so that every path is exercised.
        var p = model.parameterVector()
        let noise = Philox(seed: 99).normal(count: p.count, std: 0.1)
        for e in config.parameterLayout.entries where !e.name.hasSuffix("conv.weight") {
            for j in e.range { p[j] += noise[j] }
        }
        try model.setParameters(p)
        let images = Philox(seed: 5).normal(count: B * 3 * 64)
        let labels: [Int32] = [1, 3, 9, 0]
        let loss = try model.forward(images: images, labels: labels)
        let caps = try model.backward(captureOutputGradients: [1, 4, 7])

        let ref = ReferenceResNet(config: config).run(parameters: p.map(Double.init), images: images.map(Double.init),
                                                      labels: labels.map(Int.init), batch: B)
        let dLoss = abs(loss - ref.loss)
        let dLogits = maxAbsDiff(try model.logits().data.map(Double.init), ref.logits)
        let g = model.gradientVector().map(Double.init)
        var worstRel = 0.0
        for e in config.parameterLayout.entries {
            let a = Array(g[e.range]), r = Array(ref.gradients[e.range])
            let rel = maxAbsDiff(a, r) / max(maxAbs(r), 1e-3)
            worstRel = max(worstRel, rel)
            XCTAssertLessThan(rel, 2e-3, "\(norm) \(e.name): max diff \(maxAbsDiff(a, r)), max |ref| \(maxAbs(r))", file: file, line: line)
        }
        var worstStat = 0.0
        for l in 1...7 {
            let m = try model.channelMoments(layer: l)
            let spec = config.convLayers[l - 1], HW = spec.outputSize * spec.outputSize
            let x = ref.convOutputs[l - 1]
            for c in 0..<spec.outChannels {
                var s = 0.0
                for b in 0..<B { for q in 0..<HW { s += x[(b * spec.outChannels + c) * HW + q] } }
                let mean = s / Double(B * HW)
                worstStat = max(worstStat, abs(mean - m.mean[c]) / max(1, abs(mean)))
            }
            let post = try model.activation(layer: l, at: .postActivation).data.map(Double.init)
            let dPost = maxAbsDiff(post, ref.postActivations[l - 1]) / max(1, maxAbs(ref.postActivations[l - 1]))
            XCTAssertLessThan(dPost, 1e-4, "\(norm) layer \(l) post-activation", file: file, line: line)
        }
        XCTAssertEqual(Set(caps.keys), [1, 4, 7])
        print("TENSOR OK ResNet-8 \(norm): loss diff \(dLoss), logits max diff \(dLogits), worst relative gradient diff \(worstRel), worst channel-mean diff \(worstStat)")
        XCTAssertLessThan(dLoss, 1e-4, file: file, line: line)
        XCTAssertLessThan(dLogits, 1e-3, file: file, line: line)
        XCTAssertLessThan(worstStat, 1e-4, file: file, line: line)
    }

    func testBatchNorm() throws { try check(.batchNorm) }
    func testNoNorm() throws { try check(.none) }
    func testLastLayerOnly() throws { try check(.lastLayerOnly) }
}
