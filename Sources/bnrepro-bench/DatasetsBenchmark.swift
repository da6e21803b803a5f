import Datasets
import Foundation

/// Input-pipeline numbers (issue 4): images/s that one core prepares (normalise, pad/crop/flip, float32
/// NCHW), the same through the background prefetcher, and, given an archive, the decode time.
///   bnrepro-bench datasets [path/to/cifar-10-binary.tar.gz]
enum DatasetsBenchmark {
    static func run(archive: String?) throws {
        print("== datasets ==")
        let (set, stats) = try source(archive)
        let assembler = try BatchAssembler(source: set, stats: stats, options: .training(batchSize: 128, seed: 1))
        let evaluation = try BatchAssembler(source: set, stats: stats, options: .evaluation(batchSize: 128))

        // Warm-up, then best of 3 full epochs on this thread: one core.
        _ = assembler.batch(epoch: 0, index: 0)
        for (label, a) in [("augmented training batches", assembler), ("evaluation batches (normalise only)", evaluation)] {
            var best = 0.0
            for epoch in 0..<3 {
                let start = Date()
                let order = a.order(epoch: epoch)
                var images = 0
                for b in 0..<a.batchesPerEpoch { images += a.batch(epoch: epoch, index: b, order: order).count }
                best = max(best, Double(images) / Date().timeIntervalSince(start))
            }
            print(String(format: "%@, one core, batch 128: %.0f images/s (target ≥ 20,000)", label, best))
        }

        // Through the prefetcher: what a consumer that does nothing else receives.
        let start = Date()
        var images = 0
        var checksum: Float = 0
        for batch in BatchPrefetcher(assembler, epoch: 5, depth: 4) {
            images += batch.count
            checksum += batch.images[0]
        }
        print(String(format: "prefetcher (1 background thread, depth 4): %.0f images/s delivered (checksum %.3f)",
                     Double(images) / Date().timeIntervalSince(start), checksum))
    }

    /// The decoded training split of `archive` if given (and timed), else 50,000 random images.
    private static func source(_ archive: String?) throws -> (LabeledImages, ChannelStats) {
        guard let path = archive else {
            var rng = SeededRNG(seed: 1)
            var images = [UInt8](repeating: 0, count: 50_000 * LabeledImages.imageBytes)
            for i in 0..<images.count { images[i] = UInt8(truncatingIfNeeded: rng.next()) }
            let set = try LabeledImages(images: images, labels: (0..<50_000).map { UInt8($0 % 10) })
            print("source: 50,000 random images")
            return (set, ChannelStats(of: set))
        }
        let start = Date()
        let data = try CIFAR10Decoder().decode(archive: URL(fileURLWithPath: path))
        let decoded = Date()
        let stats = ChannelStats(of: data.train)
        let statsDone = Date()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bnrepro-bench-decode-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        try CIFAR10Arrays.write(data, stats: stats, to: out)
        print(String(format: "decode %@: %.2f s (gunzip + tar + records), stats %.2f s, writing .npy %.2f s",
                     path, decoded.timeIntervalSince(start), statsDone.timeIntervalSince(decoded), Date().timeIntervalSince(statsDone)))
        print("train \(data.train.count) per class \(data.train.countsPerClass()); test \(data.test.count) per class \(data.test.countsPerClass())")
        print("mean \(stats.mean.map { String(format: "%.4f", $0) }), std \(stats.std.map { String(format: "%.4f", $0) })")
        return (data.train, stats)
    }
}
