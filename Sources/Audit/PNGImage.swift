import CLibPNG
import Foundation

/// A PNG decoded to straight 8-bit RGBA, with its text chunks, for comparing two figures. Decoding
/// uses libpng's simplified API, which reports a damaged file as an error instead of aborting.
public struct PNGImage: Sendable, Equatable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let width: Int
    public let height: Int
    public let rgba: [UInt8]
    /// Keyword → the chunk's bytes after the keyword (tEXt, zTXt, iTXt), in file order.
    public let text: [(key: String, value: [UInt8])]

    public static func == (a: PNGImage, b: PNGImage) -> Bool {
        a.width == b.width && a.height == b.height && a.rgba == b.rgba
            && a.text.map(\.key) == b.text.map(\.key) && a.text.map(\.value) == b.text.map(\.value)
    }

    public init(decoding bytes: [UInt8]) throws {
        var image = png_image()
        image.version = 1  // PNG_IMAGE_VERSION
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw Failure(description: "not a readable PNG: \(PNGImage.message(image))") }
        image.format = 3  // PNG_FORMAT_RGBA: 8-bit straight (not premultiplied) RGBA
        width = Int(image.width)
        height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw Failure(description: "not a readable PNG: \(PNGImage.message(image))") }
        rgba = pixels
        text = PNGImage.textChunks(bytes)
    }

    private static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The text chunks, read from the chunk structure (length, type, data, CRC) after the signature.
    static func textChunks(_ bytes: [UInt8]) -> [(key: String, value: [UInt8])] {
        var found: [(String, [UInt8])] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let start = offset + 8, end = start + length
            guard length >= 0, end + 4 <= bytes.count else { break }
            if ["tEXt", "zTXt", "iTXt"].contains(type) {
                let data = bytes[start..<end]
                let nul = data.firstIndex(of: 0) ?? end
                found.append((String(decoding: data[start..<nul], as: UTF8.self), Array(data[min(nul + 1, end)..<end])))
            }
            if type == "IEND" { break }
            offset = end + 4
        }
        return found
    }
}
