import CLibPNG
import Foundation
import XCTest

/// Test-only PNG decoding through libpng: size, colour type, pixels and text chunks.
struct DecodedPNG {
    var width: Int
    var height: Int
    var colorType: Int32
    var bitDepth: Int32
    var rgba: [UInt8]
    var text: [String: String]
    var textKeys: [String]

    func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8, UInt8) {
        let o = (y * width + x) * 4
        return (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3])
    }
}

enum PNGReader {
    struct Failure: Error { let message: String }

    static func read(_ url: URL) throws -> DecodedPNG {
        let bytes = [UInt8](try Data(contentsOf: url))
        return try decode(bytes)
    }

    static func decode(_ bytes: [UInt8]) throws -> DecodedPNG {
        guard bytes.count > 8, png_sig_cmp(bytes, 0, 8) == 0 else { throw Failure(message: "not a PNG") }
        var png: png_structp? = png_create_read_struct(png_get_libpng_ver(nil), nil, nil, nil)
        var info: png_infop? = png_create_info_struct(png)
        defer { png_destroy_read_struct(&png, &info, nil) }
        final class Source { var bytes: [UInt8]; var offset = 0; init(_ b: [UInt8]) { bytes = b } }
        let src = Source(bytes)
        png_set_read_fn(png, Unmanaged.passUnretained(src).toOpaque()) { p, out, n in
            let s = Unmanaged<Source>.fromOpaque(png_get_io_ptr(p)!).takeUnretainedValue()
            let count = min(n, s.bytes.count - s.offset)
            s.bytes.withUnsafeBufferPointer { out!.update(from: $0.baseAddress! + s.offset, count: count) }
            s.offset += count
        }
        png_read_info(png, info)
        let w = Int(png_get_image_width(png, info)), h = Int(png_get_image_height(png, info))
        let ct = Int32(png_get_color_type(png, info)), bd = Int32(png_get_bit_depth(png, info))
        var rgba = [UInt8](repeating: 0, count: w * h * 4)
        rgba.withUnsafeMutableBufferPointer { buf in
            for y in 0..<h { png_read_row(png, buf.baseAddress! + y * w * 4, nil) }
        }
        png_read_end(png, info)
        var textPtr: png_textp?
        var n: Int32 = 0
        png_get_text(png, info, &textPtr, &n)
        var text: [String: String] = [:], keys: [String] = []
        for i in 0..<Int(n) {
            let t = textPtr![i]
            let k = String(cString: t.key), v = String(cString: t.text)
            text[k] = v; keys.append(k)
        }
        return DecodedPNG(width: w, height: h, colorType: ct, bitDepth: bd, rgba: rgba, text: text, textKeys: keys)
    }
}
