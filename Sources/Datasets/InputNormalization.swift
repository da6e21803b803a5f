import Foundation

/// How uint8 pixel values v become network inputs (a choice the paper leaves open).
public enum InputNormalization: Codable, Sendable, Equatable {
    /// (v/255 − mean[c]) / std[c], per channel (torchvision's Normalize). Random crops pad with black
    /// (v = 0) before normalisation, as torchvision's RandomCrop(padding:) does on the uint8 image.
    case channelStandardization(ChannelStats)
    /// v/255 − meanImage[c, y, x]: He et al.'s per-pixel mean subtraction on the [0, 1] scale. meanImage is
    /// [3, 32, 32] (C order), see `meanImage(of:indices:)`. The mean is subtracted from the stored image
    /// before padding, cropping and flipping (each pixel loses the mean of the place it comes from), and
    /// padding is 0 after normalisation (the mean colour of that place), as in He et al.'s pipeline.
    case pixelMean([Float])

    /// He et al.'s normalisation with the mean image of `set` (or of its images `indices`).
    public static func pixelMean(of set: LabeledImages, indices: [Int]? = nil) throws -> InputNormalization {
        .pixelMean(try meanImage(of: set, indices: indices))
    }

    /// The mean image [3, 32, 32] of `set` (or of its images `indices`) on the [0, 1] scale:
    /// Σ v / (255 · N) per pixel, from exact integer sums, rounded once to Float.
    public static func meanImage(of set: LabeledImages, indices: [Int]? = nil) throws -> [Float] {
        let n = LabeledImages.imageBytes, chosen = indices ?? Array(0..<set.count)
        guard !chosen.isEmpty else { throw BatchError.badOption("the mean image needs at least one image") }
        if let bad = chosen.first(where: { $0 < 0 || $0 >= set.count }) {
            throw BatchError.badOption("index \(bad) is outside the split's \(set.count) images")
        }
        var sums = [Int](repeating: 0, count: n)
        set.images.withUnsafeBufferPointer { px in
            sums.withUnsafeMutableBufferPointer { s in
                guard let src = px.baseAddress, let acc = s.baseAddress else { return }
                for i in chosen {
                    let image = src + i * n
                    for k in 0..<n { acc[k] += Int(image[k]) }
                }
            }
        }
        return sums.map { Float(Double($0) / (255 * Double(chosen.count))) }
    }

    /// Why this normalisation cannot be used, or nil.
    var problem: String? {
        switch self {
        case .channelStandardization(let stats):
            guard stats.mean.count == 3, stats.std.count == 3, stats.std.allSatisfy({ $0 > 0 }) else {
                return "normalisation needs 3 means and 3 positive standard deviations"
            }
        case .pixelMean(let mean):
            guard mean.count == LabeledImages.imageBytes else {
                return "the mean image needs \(LabeledImages.imageBytes) values (3 × 32 × 32), got \(mean.count)"
            }
            guard mean.allSatisfy(\.isFinite) else { return "the mean image has values that are not finite" }
        }
        return nil
    }
}
