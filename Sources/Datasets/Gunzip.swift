import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One zlib inflate stream in gzip mode. A class because it owns zlib's state, which points back at the
/// z_stream itself: the z_stream must stay at one address, hence the manual allocation.
final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8]
    private let archive: String

    init(archive: String, outputChunk: Int = 1 << 20) throws {
        self.archive = archive
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = [UInt8](repeating: 0, count: outputChunk)
        // 16 + MAX_WBITS: expect a gzip header and trailer (CRC-32 and length are checked by zlib).
        let status = inflateInit2_(stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ArchiveError.gzipCorrupt(archive: archive, message: "inflateInit2 failed with status \(status)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates `input`, handing each block of output to `sink`. Returns true when the input ended exactly
    /// at the end of a gzip member. Several members in a row (as `cat a.gz b.gz` makes) are one stream.
    func feed(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard let base = input.baseAddress, input.count > 0 else { return false }
        var atEnd = false
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        let capacity = output.count
        try output.withUnsafeMutableBytes { out in
            guard let outBase = out.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
            while true {
                if atEnd {
                    if stream.pointee.avail_in == 0 { return }
                    // More bytes after a member's trailer: the next gzip member starts here.
                    inflateReset(stream)
                    atEnd = false
                }
                stream.pointee.next_out = outBase
                stream.pointee.avail_out = uInt(capacity)
                let status = inflate(stream, Z_NO_FLUSH)
                let produced = capacity - Int(stream.pointee.avail_out)
                if produced > 0 { try sink(UnsafeRawBufferPointer(start: outBase, count: produced)) }
                switch status {
                case Z_STREAM_END:
                    atEnd = true
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                case Z_BUF_ERROR:
                    // No progress possible: all input consumed; more is needed.
                    return
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                    throw ArchiveError.gzipCorrupt(archive: archive, message: message)
                }
            }
        }
        return atEnd
    }
}

/// Streaming gunzip of a file: memory use is one input and one output chunk, whatever the file size.
public enum Gunzip {
    /// Calls `sink` with consecutive blocks of the decompressed stream and `progress` with
    /// (compressed bytes read, compressed file size). Throws if the stream is corrupt or ends early.
    public static func stream(file url: URL, chunkSize: Int = 1 << 20,
                              progress: ((Int64, Int64) -> Void)? = nil,
                              sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let name = url.lastPathComponent
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError.unreadable(archive: name, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        let total: Int64 = fstat(fd, &info) == 0 ? Int64(info.st_size) : -1

        let inflater = try GzipInflater(archive: name)
        var input = [UInt8](repeating: 0, count: chunkSize)
        var read: Int64 = 0
        var endedCleanly = false
        var first = true
        while true {
            let n = input.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.unreadable(archive: name, message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            if first {
                first = false
                guard n < 2 || (input[0] == 0x1F && input[1] == 0x8B) else { throw ArchiveError.notGzip(archive: name) }
            }
            read += Int64(n)
            endedCleanly = try input.withUnsafeBytes { buffer in
                try inflater.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), sink: sink)
            }
            progress?(read, total)
        }
        guard endedCleanly else { throw ArchiveError.gzipTruncated(archive: name, compressedBytes: read) }
    }
}
