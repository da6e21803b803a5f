import Foundation
import XCTest
@testable import Datasets

final class TrainingInputTests: XCTestCase {
    /// n random images with labels i % 10, and the statistics of the set.
    private func dataset(_ n: Int, seed: UInt64 = 1) throws -> (LabeledImages, ChannelStats) {
        var rng = SeededRNG(seed: seed)
        let images = (0..<(n * 3072)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let set = try LabeledImages(images: images, labels: (0..<n).map { UInt8($0 % 10) })
        return (set, ChannelStats(of: set))
    }

    private func normalised(_ v: UInt8, _ c: Int, _ s: ChannelStats) -> Float {
        Float((Double(v) / 255 - s.mean[c]) / s.std[c])
    }

    func testEvaluationBatchesAreNormalisedInFileOrder() throws {
        let (set, stats) = try dataset(25)
        let a = try BatchAssembler(source: set, stats: stats, options: .evaluation(batchSize: 10))
        XCTAssertEqual(a.batchesPerEpoch, 3)
        let last = a.batch(epoch: 0, index: 2)
        XCTAssertEqual(last.count, 5)
        XCTAssertEqual(last.indices, [20, 21, 22, 23, 24])
        XCTAssertEqual(last.labels, [0, 1, 2, 3, 4])
        var maxDiff: Float = 0
        for k in 0..<5 {
            for j in 0..<3072 {
                let expected = normalised(set.images[(20 + k) * 3072 + j], j / 1024, stats)
                maxDiff = max(maxDiff, abs(last.images[k * 3072 + j] - expected))
            }
        }
        XCTAssertLessThan(maxDiff, 1e-6, "maxdiff = \(maxDiff)")
    }

    func testAugmentedImagesArePaddedCroppedAndFlippedCopies() throws {
        let (set, stats) = try dataset(40)
        let a = try BatchAssembler(source: set, stats: stats, options: .training(batchSize: 40, seed: 7))
        let batch = a.batch(epoch: 3, index: 0)
        var seen = Set<String>()
        for k in 0..<batch.count {
            let src = Array(set.images[(batch.indices[k] * 3072)..<((batch.indices[k] + 1) * 3072)])
            let got = Array(batch.images[(k * 3072)..<((k + 1) * 3072)])
            // The reference: pad a 40×40 zero canvas, crop at (dy, dx), flip: one of 9 × 9 × 2 candidates.
            var match: String?
            search: for dy in 0...8 { for dx in 0...8 { for flip in [false, true] {
                if reference(src, dy: dy, dx: dx, flip: flip, stats: stats) == got {
                    match = "\(dy),\(dx),\(flip)"
                    break search
                }
            } } }
            XCTAssertNotNil(match, "image \(k) is no crop/flip of its source")
            if let m = match { seen.insert(m) }
            XCTAssertEqual(batch.labels[k], Int32(set.labels[batch.indices[k]]))
        }
        XCTAssertGreaterThan(seen.count, 20, "crops and flips should vary: \(seen)")
        XCTAssertTrue(seen.contains { $0.hasSuffix("true") } && seen.contains { $0.hasSuffix("false") })
    }

    private func reference(_ src: [UInt8], dy: Int, dx: Int, flip: Bool, stats: ChannelStats) -> [Float] {
        var out = [Float](repeating: 0, count: 3072)
        for c in 0..<3 {
            var padded = [[UInt8]](repeating: [UInt8](repeating: 0, count: 40), count: 40)
            for y in 0..<32 { for x in 0..<32 { padded[y + 4][x + 4] = src[c * 1024 + y * 32 + x] } }
            for y in 0..<32 { for x in 0..<32 {
                let v = padded[y + dy][(flip ? 31 - x : x) + dx]
                out[c * 1024 + y * 32 + x] = normalised(v, c, stats)
            } }
        }
        return out
    }

    func testEpochsAreSeededPermutationsAndReproducible() throws {
        let (set, stats) = try dataset(103)
        let options = BatchOptions.training(batchSize: 10, seed: 42)
        let a = try BatchAssembler(source: set, stats: stats, options: options)
        XCTAssertEqual(a.batchesPerEpoch, 10)  // the last 3 images of each epoch's order are dropped
        XCTAssertEqual(a.order(epoch: 0).sorted(), Array(0..<103))
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1))
        XCTAssertNotEqual(a.order(epoch: 0), Array(0..<103))
        let again = try BatchAssembler(source: set, stats: stats, options: options)
        XCTAssertEqual(a.order(epoch: 5), again.order(epoch: 5))
        let b1 = a.batch(epoch: 2, index: 4), b2 = again.batch(epoch: 2, index: 4)
        XCTAssertEqual(b1.images, b2.images)
        XCTAssertEqual(b1.indices, b2.indices)
        var other = options
        other.seed = 43
        let c = try BatchAssembler(source: set, stats: stats, options: other)
        XCTAssertNotEqual(c.order(epoch: 2), a.order(epoch: 2))
        // Same images in another epoch get other crops: the augmentation is drawn per (epoch, batch).
        XCTAssertNotEqual(a.batch(epoch: 0, index: 0).images, a.batch(epoch: 1, index: 0).images)
    }

    func testStratifiedSubsetsAreSeededBalancedAndNotPrefixes() throws {
        var rng = SeededRNG(seed: 3)
        let labels = (0..<5000).map { _ in UInt8(rng.below(10)) }
        let subset = try Subsets.stratified(labels: labels, perClass: 50, seed: 11)
        XCTAssertEqual(subset.count, 500)
        XCTAssertEqual(subset, subset.sorted())
        XCTAssertEqual(Set(subset).count, 500)
        for c in 0..<10 {
            XCTAssertEqual(subset.filter { labels[$0] == UInt8(c) }.count, 50)
            let prefix = Array(labels.indices.filter { labels[$0] == UInt8(c) }.prefix(50))
            XCTAssertNotEqual(subset.filter { labels[$0] == UInt8(c) }, prefix, "class \(c) subset is a prefix")
        }
        XCTAssertEqual(try Subsets.stratified(labels: labels, perClass: 50, seed: 11), subset)
        XCTAssertNotEqual(try Subsets.stratified(labels: labels, perClass: 50, seed: 12), subset)
        let tenth = try Subsets.stratified(labels: labels, fraction: 0.1, seed: 1)
        XCTAssertEqual(Double(tenth.count), 500, accuracy: 10)
        XCTAssertThrowsError(try Subsets.stratified(labels: labels, perClass: 5000, seed: 1)) {
            guard case Subsets.Error.notEnough = $0 else { return XCTFail("\($0)") }
        }
        // A subset feeds the assembler and only its images come out.
        let (set, stats) = try dataset(200)
        let few = try Subsets.stratified(labels: set.labels, perClass: 3, seed: 5)
        let a = try BatchAssembler(source: set, indices: few, stats: stats, options: .training(batchSize: 6, seed: 1))
        let used = (0..<a.batchesPerEpoch).flatMap { a.batch(epoch: 0, index: $0).indices }
        XCTAssertEqual(used.sorted(), few)
    }

    func testPrefetcherYieldsTheAssemblersBatchesInOrderAndStopsWhenDropped() throws {
        let (set, stats) = try dataset(64)
        let a = try BatchAssembler(source: set, stats: stats, options: .training(batchSize: 8, seed: 9))
        let prefetched = Array(BatchPrefetcher(a, epoch: 1, depth: 2))
        XCTAssertEqual(prefetched.count, 8)
        for (b, batch) in prefetched.enumerated() {
            let direct = a.batch(epoch: 1, index: b)
            XCTAssertEqual(batch.index, b)
            XCTAssertEqual(batch.indices, direct.indices)
            XCTAssertEqual(batch.images, direct.images)
        }
        // Abandoning an epoch half-way must not leave a producer blocked forever (it exits on deinit).
        for _ in 0..<20 {
            let p = BatchPrefetcher(a, epoch: 2, depth: 1)
            _ = p.next()
        }
        let p = BatchPrefetcher(a, epoch: 3, depth: 1)
        p.cancel()
        XCTAssertNil(p.next())
    }

    func testBadOptionsAreRejected() throws {
        let (set, stats) = try dataset(4)
        XCTAssertThrowsError(try BatchAssembler(source: set, stats: stats, options: .training(batchSize: 0, seed: 1)))
        XCTAssertThrowsError(try BatchAssembler(source: set, indices: [7], stats: stats, options: .evaluation(batchSize: 1)))
        XCTAssertThrowsError(try BatchAssembler(source: set, stats: ChannelStats(mean: [0, 0, 0], std: [1, 0, 1]),
                                                options: .evaluation(batchSize: 1)))
    }
}
