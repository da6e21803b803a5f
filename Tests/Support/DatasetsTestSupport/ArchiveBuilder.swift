import CZlib
import Foundation

/// Builds tar and tar.gz archives in memory, the way GNU tar and POSIX ustar writers lay them out, so that
/// tests control every byte (including broken ones).
public enum ArchiveBuilder {
    public enum Magic: Sendable { case posix, gnu }

    public static func header(name: String, size: Int, type: UInt8 = UInt8(ascii: "0"), magic: Magic = .posix) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int, _ len: Int) {
            let b = Array(s.utf8).prefix(len)
            h.replaceSubrange(at..<(at + b.count), with: b)
        }
        put(name, 0, 100)
        put("0000644", 100, 8)
        put("0001750", 108, 8)
        put("0001750", 116, 8)
        put(String(format: "%011o", size), 124, 12)
        put(String(format: "%011o", 1_234_567_890), 136, 12)
        h[156] = type
        switch magic {
        case .posix: put("ustar\0", 257, 6); put("00", 263, 2)
        case .gnu: put("ustar  \0", 257, 8)
        }
        put("user", 265, 32)
        put("group", 297, 32)
        // Checksum: sum with the field as spaces, written as 6 octal digits, NUL, space.
        for k in 148..<156 { h[k] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum), 148, 6)
        h[154] = 0
        h[155] = 0x20
        return h
    }

    public static func member(_ name: String, _ bytes: [UInt8], type: UInt8 = UInt8(ascii: "0"), magic: Magic = .posix) -> [UInt8] {
        var out = [UInt8]()
        if name.utf8.count > 100 {
            // GNU long name: a pseudo-member "././@LongLink" of type L whose data is the name.
            let long = Array(name.utf8) + [0]
            out += header(name: "././@LongLink", size: long.count, type: UInt8(ascii: "L"), magic: .gnu)
            out += padded(long)
        }
        out += header(name: String(name.prefix(100)), size: bytes.count, type: type, magic: magic)
        out += padded(bytes)
        return out
    }

    public static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
    }

    public static func tar(_ members: [(String, [UInt8])], magic: Magic = .posix) -> [UInt8] {
        var out = [UInt8]()
        for (name, bytes) in members { out += member(name, bytes, magic: magic) }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    public static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK)
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let r = deflate(&stream, Z_FINISH)
                precondition(r == Z_STREAM_END)
                return out.count - Int(stream.avail_out)
            }
        }
        deflateEnd(&stream)
        return Array(output[0..<produced])
    }
}

/// A small CIFAR-10 binary release with known content: image i (train 0..<5n, then test) has
/// pixel (c, y, x) = pixel(i, c, y, x) and label label(i).
public struct SyntheticCIFAR: Sendable {
    public let recordsPerFile: Int
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    public static func pixel(_ i: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 {
        // Channel-dependent offsets make a swapped R/G/B plane order visible.
        UInt8((i * 31 + c * 85 + y * 7 + x * 3) % 256)
    }

    public static func label(_ i: Int) -> UInt8 { UInt8((i * 7 + i / 10) % 10) }

    public init(recordsPerFile: Int) { self.recordsPerFile = recordsPerFile }

    public func record(_ i: Int) -> [UInt8] {
        var r = [SyntheticCIFAR.label(i)]
        for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { r.append(SyntheticCIFAR.pixel(i, c, y, x)) } } }
        return r
    }

    public func batch(_ file: Int) -> [UInt8] {
        // file 0..<5 are training batches, 5 is the test batch.
        (0..<recordsPerFile).flatMap { record(file * recordsPerFile + $0) }
    }

    public var meta: [UInt8] { Array((SyntheticCIFAR.classNames.joined(separator: "\n") + "\n\n").utf8) }

    /// Members as the release names them; `replace` swaps in different bytes for a member, `drop` omits it.
    public func members(replace: [String: [UInt8]] = [:], drop: Set<String> = [], extra: [(String, [UInt8])] = [])
        -> [(String, [UInt8])] {
        var list: [(String, [UInt8])] = [("cifar-10-batches-bin/", [])]
        list.append(("cifar-10-batches-bin/batches.meta.txt", meta))
        for k in 1...5 { list.append(("cifar-10-batches-bin/data_batch_\(k).bin", batch(k - 1))) }
        list.append(("cifar-10-batches-bin/test_batch.bin", batch(5)))
        list.append(("cifar-10-batches-bin/readme.html", Array("<html></html>".utf8)))
        list += extra
        return list.compactMap { name, bytes in
            let base = name.split(separator: "/").last.map(String.init) ?? name
            if drop.contains(base) || (name.hasSuffix("/") && drop.contains(name)) { return nil }
            return (name, replace[base] ?? bytes)
        }
    }

    public func tarGz(replace: [String: [UInt8]] = [:], drop: Set<String> = [], extra: [(String, [UInt8])] = [],
               magic: ArchiveBuilder.Magic = .posix) -> [UInt8] {
        ArchiveBuilder.gzip(tar(replace: replace, drop: drop, extra: extra, magic: magic))
    }

    public func tar(replace: [String: [UInt8]] = [:], drop: Set<String> = [], extra: [(String, [UInt8])] = [],
             magic: ArchiveBuilder.Magic = .posix) -> [UInt8] {
        var out = [UInt8]()
        for (name, bytes) in members(replace: replace, drop: drop, extra: extra) {
            let type: UInt8 = name.hasSuffix("/") ? UInt8(ascii: "5") : UInt8(ascii: "0")
            out += ArchiveBuilder.member(name, bytes, type: type, magic: magic)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }
}

public func temporaryDirectory(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
