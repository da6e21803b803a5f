import Foundation

/// Per-channel mean and standard deviation of pixel values scaled to [0, 1] (value / 255), computed over
/// every pixel of a split. Training normalises with the training split's statistics.
public struct ChannelStats: Codable, Sendable, Equatable {
    public let mean: [Double]  // R, G, B
    public let std: [Double]

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// Exact statistics via a 256-bin histogram per channel: one pass of integer increments, no
    /// floating-point accumulation error over 51 million pixels.
    public init(of set: LabeledImages) {
        let plane = LabeledImages.planeBytes
        var histogram = [[Int]](repeating: [Int](repeating: 0, count: 256), count: LabeledImages.channels)
        set.images.withUnsafeBufferPointer { px in
            for c in 0..<LabeledImages.channels {
                histogram[c].withUnsafeMutableBufferPointer { h in
                    for i in 0..<set.count {
                        let start = i * LabeledImages.imageBytes + c * plane
                        for k in start..<(start + plane) { h[Int(px[k])] += 1 }
                    }
                }
            }
        }
        var mean: [Double] = [], std: [Double] = []
        for h in histogram {
            let n = Double(h.reduce(0, +))
            var sum = 0.0, sumSquares = 0.0
            for (v, count) in h.enumerated() {
                let x = Double(v) / 255
                sum += Double(count) * x
                sumSquares += Double(count) * x * x
            }
            let m = n > 0 ? sum / n : 0
            mean.append(m)
            std.append(n > 0 ? max(0, sumSquares / n - m * m).squareRoot() : 0)
        }
        self.init(mean: mean, std: std)
    }
}
