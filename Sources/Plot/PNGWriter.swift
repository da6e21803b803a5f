import CLibPNG
import Foundation

// Encodes straight 8-bit RGBA pixels as PNG through libpng, with text chunks for provenance.
//
// libpng reports errors by longjmp, which Swift cannot catch; if its error callback returns, libpng
// aborts. So everything libpng would reject (sizes, text keys) is checked here first, output goes to
// memory (no I/O errors inside libpng), and the file is written afterwards by AtomicFile.

public enum PNGWriter {
    /// PNG bytes of a width × height image of straight RGBA rows (4 bytes per pixel, no padding).
    /// `text` becomes tEXt chunks (iTXt when a value is not Latin-1), in the given order.
    public static func encode(width: Int, height: Int, rgba: [UInt8], text: [(key: String, value: String)]) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1_000_000, height <= 1_000_000, rgba.count == width * height * 4 else {
            throw PlotError.png(operation: "encode: \(width)×\(height) image with \(rgba.count) bytes of RGBA")
        }
        for (k, _) in text { try validateKey(k) }

        guard let png = png_create_write_struct(png_get_libpng_ver(nil), nil, nil, nil) else {
            throw PlotError.png(operation: "png_create_write_struct")
        }
        var pngOpt: png_structp? = png
        guard let info = png_create_info_struct(png) else {
            png_destroy_write_struct(&pngOpt, nil)
            throw PlotError.png(operation: "png_create_info_struct")
        }
        var infoOpt: png_infop? = info
        defer { png_destroy_write_struct(&pngOpt, &infoOpt) }

        let sink = ByteSink()
        let sinkPtr = Unmanaged.passUnretained(sink).toOpaque()
        png_set_write_fn(png, sinkPtr, { p, data, length in
            guard let p, let io = png_get_io_ptr(p), let data else { return }
            Unmanaged<ByteSink>.fromOpaque(io).takeUnretainedValue().bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        }, { _ in })

        png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_RGB_ALPHA,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)

        // png_set_text copies the strings, so the C copies only need to live through the call.
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        var chunks: [png_text] = []
        for (k, v) in text {
            guard let ck = strdup(k), let cv = strdup(v) else { throw PlotError.png(operation: "strdup") }
            cStrings += [ck, cv]
            var t = png_text()
            let latin1 = v.unicodeScalars.allSatisfy { $0.value < 256 }
            t.compression = latin1 ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE
            t.key = ck
            t.text = cv
            t.text_length = latin1 ? strlen(cv) : 0
            t.itxt_length = latin1 ? 0 : strlen(cv)
            chunks.append(t)
        }
        if !chunks.isEmpty { png_set_text(png, info, &chunks, Int32(chunks.count)) }

        png_write_info(png, info)
        rgba.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            for y in 0..<height { png_write_row(png, base + y * width * 4) }
        }
        png_write_end(png, info)
        return sink.bytes
    }

    /// PNG keywords: 1–79 printable Latin-1 characters, no leading/trailing/double spaces (PNG spec 11.3.4.3).
    static func validateKey(_ k: String) throws {
        let scalars = Array(k.unicodeScalars)
        let printable = scalars.allSatisfy { (32...126).contains($0.value) || (161...255).contains($0.value) }
        guard (1...79).contains(scalars.count), printable, !k.hasPrefix(" "), !k.hasSuffix(" "), !k.contains("  ") else {
            throw PlotError.invalidMetadataKey(k)
        }
    }

    /// Converts Cairo's premultiplied native-endian ARGB32 to straight RGBA bytes.
    static func rgba(fromARGB32 data: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 4)
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let px = row[x]
                let a = px >> 24
                func un(_ c: UInt32) -> UInt8 { a == 0 ? 0 : UInt8(min(255, (c * 255 + a / 2) / a)) }
                let o = (y * width + x) * 4
                out[o] = un((px >> 16) & 0xff); out[o + 1] = un((px >> 8) & 0xff); out[o + 2] = un(px & 0xff); out[o + 3] = UInt8(a)
            }
        }
        return out
    }
}

/// Collects bytes from a C write callback.
final class ByteSink {
    var bytes: [UInt8] = []
}
