import Foundation

/// Makes batch b of epoch e from uint8 images: order, augmentation and normalisation. Batch (e, b) depends
/// only on the data, the options and (e, b) — not on which thread made it or what was made before — so a
/// run is reproducible however batches are prefetched.
public struct BatchAssembler: Sendable {
    public let source: LabeledImages
    /// The images of `source` to use (a subset, or all); epochs permute these.
    public let indices: [Int]
    public let options: BatchOptions
    public let normalization: InputNormalization
    /// Channel standardisation: lut[c * 256 + v] = (v / 255 − mean[c]) / std[c], one table load per pixel.
    /// Pixel mean: lut[v] = v / 255, and the mean image is subtracted after the load.
    private let lut: [Float]
    private let meanImage: [Float]?

    /// Per-channel standardisation with `stats` (the training split's).
    public init(source: LabeledImages, indices: [Int]? = nil, stats: ChannelStats, options: BatchOptions) throws {
        try self.init(source: source, indices: indices, normalization: .channelStandardization(stats), options: options)
    }

    public init(source: LabeledImages, indices: [Int]? = nil, normalization: InputNormalization,
                options: BatchOptions) throws {
        guard options.batchSize > 0 else { throw BatchError.badOption("batch size must be positive, got \(options.batchSize)") }
        guard (0...16).contains(options.padding) else { throw BatchError.badOption("padding must be 0...16, got \(options.padding)") }
        if let problem = normalization.problem { throw BatchError.badOption(problem) }
        let chosen = indices ?? Array(0..<source.count)
        if let bad = chosen.first(where: { $0 < 0 || $0 >= source.count }) {
            throw BatchError.badOption("index \(bad) is outside the split's \(source.count) images")
        }
        self.source = source
        self.indices = chosen
        self.options = options
        self.normalization = normalization
        switch normalization {
        case .channelStandardization(let stats):
            var table = [Float](repeating: 0, count: 3 * 256)
            for c in 0..<3 {
                for v in 0..<256 { table[c * 256 + v] = Float((Double(v) / 255 - stats.mean[c]) / stats.std[c]) }
            }
            lut = table
            meanImage = nil
        case .pixelMean(let mean):
            lut = (0..<256).map { Float(Double($0) / 255) }
            meanImage = mean
        }
    }

    public var batchesPerEpoch: Int {
        options.dropLast ? indices.count / options.batchSize
                         : (indices.count + options.batchSize - 1) / options.batchSize
    }

    /// The order of `indices` in epoch `epoch`.
    public func order(epoch: Int) -> [Int] {
        guard options.shuffle else { return indices }
        var order = indices
        var rng = SeededRNG(seed: options.seed, 0x0DE7, UInt64(epoch))
        rng.shuffle(&order)
        return order
    }

    public func batch(epoch: Int, index: Int) -> ImageBatch {
        batch(epoch: epoch, index: index, order: order(epoch: epoch))
    }

    /// `order` is `order(epoch:)`, passed in so that an epoch's permutation is computed once.
    public func batch(epoch: Int, index: Int, order: [Int]) -> ImageBatch {
        let start = index * options.batchSize
        let members = Array(order[start..<min(start + options.batchSize, order.count)])
        let n = members.count, imageFloats = LabeledImages.imageBytes
        var images = [Float](repeating: 0, count: n * imageFloats)
        var labels = [Int32](repeating: 0, count: n)
        var rng = SeededRNG(seed: options.seed, 0xA06, UInt64(epoch), UInt64(index))
        let range = 2 * options.padding + 1
        // (An empty array may still have a base address: the choice is made on meanImage itself.)
        let mean = meanImage ?? [], subtractMean = meanImage != nil
        source.images.withUnsafeBufferPointer { pixels in
            images.withUnsafeMutableBufferPointer { out in
                lut.withUnsafeBufferPointer { table in mean.withUnsafeBufferPointer { meanBuffer in
                    guard let src = pixels.baseAddress, let dst = out.baseAddress, let t = table.baseAddress else { return }
                    for (k, i) in members.enumerated() {
                        labels[k] = Int32(source.labels[i])
                        var dx = options.padding, dy = options.padding, flip = false
                        if options.augment {
                            // Drawn in a fixed order per image, so a batch is the same on every run.
                            dy = rng.below(range)
                            dx = rng.below(range)
                            flip = rng.next() & 1 == 1
                        }
                        if subtractMean, let m = meanBuffer.baseAddress {
                            Self.transform(src + i * imageFloats, into: dst + k * imageFloats, unit: t, meanImage: m,
                                           dx: dx - options.padding, dy: dy - options.padding, flip: flip)
                        } else {
                            Self.transform(src + i * imageFloats, into: dst + k * imageFloats, table: t,
                                           dx: dx - options.padding, dy: dy - options.padding, flip: flip)
                        }
                    }
                } }
            }
        }
        return ImageBatch(images: images, labels: labels, indices: members, epoch: epoch, index: index)
    }

    /// out[c][y][x] = norm(img[c][y + dy][x' + dx]) with x' = flip ? 31 − x : x, and the value of a zero
    /// pixel where the shifted window leaves the image (torchvision's RandomCrop(32, padding=4) pads the
    /// uint8 image with 0 before Normalize, so padding is black, not the mean).
    @inline(__always)
    static func transform(_ src: UnsafePointer<UInt8>, into dst: UnsafeMutablePointer<Float>,
                          table: UnsafePointer<Float>, dx: Int, dy: Int, flip: Bool) {
        let w = LabeledImages.width, h = LabeledImages.height, plane = LabeledImages.planeBytes
        // Columns x whose source column x + dx is inside the image.
        let x0 = max(0, -dx), x1 = min(w, w - dx)
        for c in 0..<3 {
            let lut = table + c * 256
            let fill = lut[0]
            for y in 0..<h {
                let row = dst + c * plane + y * w
                let sy = y + dy
                guard sy >= 0 && sy < h, x0 < x1 else {
                    row.update(repeating: fill, count: w)
                    continue
                }
                let srcRow = src + c * plane + sy * w + dx
                if flip {
                    for x in 0..<x0 { row[w - 1 - x] = fill }
                    for x in x0..<x1 { row[w - 1 - x] = lut[Int(srcRow[x])] }
                    for x in x1..<w { row[w - 1 - x] = fill }
                } else {
                    for x in 0..<x0 { row[x] = fill }
                    for x in x0..<x1 { row[x] = lut[Int(srcRow[x])] }
                    for x in x1..<w { row[x] = fill }
                }
            }
        }
    }
}

extension BatchAssembler {
    /// The pixel-mean variant of `transform`: out[c][y][x] = unit[v] − meanImage[c][sy][sx] for the source
    /// pixel (sy, sx) = (y + dy, x' + dx), and 0 where the window leaves the image (the mean is subtracted
    /// before padding, so padding is 0 after normalisation).
    @inline(__always)
    static func transform(_ src: UnsafePointer<UInt8>, into dst: UnsafeMutablePointer<Float>, unit: UnsafePointer<Float>,
                          meanImage: UnsafePointer<Float>, dx: Int, dy: Int, flip: Bool) {
        let w = LabeledImages.width, h = LabeledImages.height, plane = LabeledImages.planeBytes
        let x0 = max(0, -dx), x1 = min(w, w - dx)
        for c in 0..<3 {
            for y in 0..<h {
                let row = dst + c * plane + y * w
                let sy = y + dy
                guard sy >= 0 && sy < h, x0 < x1 else {
                    row.update(repeating: 0, count: w)
                    continue
                }
                let srcRow = src + c * plane + sy * w + dx, meanRow = meanImage + c * plane + sy * w + dx
                for x in 0..<x0 { row[flip ? w - 1 - x : x] = 0 }
                for x in x1..<w { row[flip ? w - 1 - x : x] = 0 }
                if flip {
                    for x in x0..<x1 { row[w - 1 - x] = unit[Int(srcRow[x])] - meanRow[x] }
                } else {
                    for x in x0..<x1 { row[x] = unit[Int(srcRow[x])] - meanRow[x] }
                }
            }
        }
    }
}

public enum BatchError: Error, CustomStringConvertible, Equatable {
    case badOption(String)
    public var description: String {
        switch self { case .badOption(let m): return "batch options: \(m)" }
    }
}
