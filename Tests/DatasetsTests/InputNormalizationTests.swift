import Foundation
import XCTest
@testable import Datasets

/// He et al.'s per-pixel mean subtraction beside the per-channel standardisation, on generated images.
final class InputNormalizationTests: XCTestCase {
    /// n random images with labels i % 10; a brighter left half so that the mean image is not flat.
    private func dataset(_ n: Int, seed: UInt64 = 2) throws -> LabeledImages {
        var rng = SeededRNG(seed: seed)
        let images = (0..<(n * 3072)).map { k -> UInt8 in
            let r = UInt8(truncatingIfNeeded: rng.next())
            return k % 32 < 16 ? max(r, 128) : r / 2
        }
        return try LabeledImages(images: images, labels: (0..<n).map { UInt8($0 % 10) })
    }

    func testMeanImageIsExact() throws {
        let set = try dataset(37)
        let mean = try InputNormalization.meanImage(of: set)
        XCTAssertEqual(mean.count, 3072)
        var worst = 0.0
        for k in 0..<3072 {
            let exact = (0..<37).reduce(0.0) { $0 + Double(set.images[$1 * 3072 + k]) } / (255 * 37)
            worst = max(worst, abs(Double(mean[k]) - exact) / exact)
        }
        print("TENSOR OK mean image vs Float64 sums: max relative diff = \(worst)")
        XCTAssertLessThanOrEqual(worst, Double(Float.ulpOfOne) / 2)
        // Of a subset; all-255 images give exactly 1.
        let few = [3, 8, 20]
        let sub = try InputNormalization.meanImage(of: set, indices: few)
        XCTAssertEqual(sub[100], Float(few.reduce(0.0) { $0 + Double(set.images[$1 * 3072 + 100]) } / (255 * 3)))
        let white = try LabeledImages(images: [UInt8](repeating: 255, count: 2 * 3072), labels: [0, 1])
        XCTAssertEqual(try InputNormalization.meanImage(of: white), [Float](repeating: 1, count: 3072))
        XCTAssertThrowsError(try InputNormalization.meanImage(of: set, indices: [37]))
        XCTAssertThrowsError(try InputNormalization.meanImage(of: set, indices: []))
    }

    func testEvaluationBatchesSubtractTheMeanImage() throws {
        let set = try dataset(12)
        let mean = try InputNormalization.meanImage(of: set)
        let a = try BatchAssembler(source: set, normalization: .pixelMean(mean), options: .evaluation(batchSize: 12))
        let batch = a.batch(epoch: 0, index: 0)
        var worst: Float = 0, sum = [Double](repeating: 0, count: 3072)
        for k in 0..<12 { for j in 0..<3072 {
            let v = batch.images[k * 3072 + j]
            worst = max(worst, abs(v - (Float(set.images[k * 3072 + j]) / 255 - mean[j])))
            sum[j] += Double(v)
        } }
        print("TENSOR OK pixel-mean evaluation batch vs v/255 − mean: maxdiff = \(worst)")
        XCTAssertLessThan(worst, 1e-6)
        // Over the images the mean was taken from, every pixel averages to 0.
        XCTAssertLessThan(sum.map { abs($0) / 12 }.max() ?? 1, 1e-6)
    }

    func testAugmentedImagesSubtractTheMeanBeforePadding() throws {
        let set = try dataset(40)
        let normalization = try InputNormalization.pixelMean(of: set)
        guard case .pixelMean(let mean) = normalization else { return XCTFail("not a pixel mean") }
        let a = try BatchAssembler(source: set, normalization: normalization, options: .training(batchSize: 40, seed: 7))
        let batch = a.batch(epoch: 1, index: 0)
        var seen = Set<String>()
        for k in 0..<batch.count {
            let i = batch.indices[k]
            let got = Array(batch.images[(k * 3072)..<((k + 1) * 3072)])
            var match: String?
            search: for dy in 0...8 { for dx in 0...8 { for flip in [false, true] {
                if reference(set, i, mean: mean, dy: dy, dx: dx, flip: flip) == got { match = "\(dy),\(dx),\(flip)"; break search }
            } } }
            XCTAssertNotNil(match, "image \(k) is no normalised crop/flip of its source")
            if let m = match { seen.insert(m) }
        }
        XCTAssertGreaterThan(seen.count, 20, "crops and flips should vary: \(seen)")
        // The reference pads with 0 after normalisation, so matches of shifted crops check the padding too.
        XCTAssertTrue(seen.contains { !$0.hasPrefix("4,4,") }, "some crops are shifted")
    }

    /// Normalise the 32×32 image (v/255 − mean), pad a 40×40 canvas with 0, crop at (dy, dx), flip.
    private func reference(_ set: LabeledImages, _ i: Int, mean: [Float], dy: Int, dx: Int, flip: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: 3072)
        for c in 0..<3 {
            var padded = [[Float]](repeating: [Float](repeating: 0, count: 40), count: 40)
            for y in 0..<32 { for x in 0..<32 {
                let j = c * 1024 + y * 32 + x
                padded[y + 4][x + 4] = Float(Double(set.images[i * 3072 + j]) / 255) - mean[j]
            } }
            for y in 0..<32 { for x in 0..<32 { out[c * 1024 + y * 32 + x] = padded[y + dy][(flip ? 31 - x : x) + dx] } }
        }
        return out
    }

    func testStatsInitialiserIsChannelStandardisation() throws {
        let set = try dataset(20)
        let stats = ChannelStats(of: set)
        let a = try BatchAssembler(source: set, stats: stats, options: .training(batchSize: 10, seed: 3))
        let b = try BatchAssembler(source: set, normalization: .channelStandardization(stats), options: .training(batchSize: 10, seed: 3))
        XCTAssertEqual(a.normalization, b.normalization)
        XCTAssertEqual(a.batch(epoch: 2, index: 1).images, b.batch(epoch: 2, index: 1).images)
        // Same crops and flips under either normalisation: only the values differ.
        let p = try BatchAssembler(source: set, normalization: .pixelMean(of: set), options: .training(batchSize: 10, seed: 3))
        XCTAssertEqual(p.batch(epoch: 2, index: 1).indices, a.batch(epoch: 2, index: 1).indices)
    }

    func testBadMeanImagesAreRejectedAndNormalisationsCode() throws {
        let set = try dataset(2)
        XCTAssertThrowsError(try BatchAssembler(source: set, normalization: .pixelMean([0, 0, 0]), options: .evaluation(batchSize: 1)))
        var bad = try InputNormalization.meanImage(of: set)
        bad[5] = .nan
        XCTAssertThrowsError(try BatchAssembler(source: set, normalization: .pixelMean(bad), options: .evaluation(batchSize: 1)))
        for n in [try InputNormalization.pixelMean(of: set), .channelStandardization(ChannelStats(of: set))] {
            XCTAssertEqual(try JSONDecoder().decode(InputNormalization.self, from: try JSONEncoder().encode(n)), n)
        }
    }
}
