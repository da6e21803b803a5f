import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file read start to end in large chunks, for hashing: large reads make a digest run at the speed of
/// the hash, not of the system calls. The store's SHA-256 and the download's MD5 + SHA-256 both read
/// files this way.
public enum FileChunks {
    /// Calls `body` with each chunk in order; returns the byte count. Errors are `AtomicFile.Failure`s
    /// that name the file.
    @discardableResult
    public static func forEach(_ url: URL, chunkSize: Int = 4 << 20, _ body: (UnsafeRawBufferPointer) -> Void) throws -> Int64 {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(url, "cannot open") }
        defer { close(fd) }
        return try forEach(descriptor: fd, of: url, chunkSize: chunkSize, body)
    }

    /// The same over a file the caller opened (and closes), e.g. with O_NOFOLLOW; `url` names it in errors.
    @discardableResult
    public static func forEach(descriptor fd: Int32, of url: URL, chunkSize: Int = 4 << 20,
                               _ body: (UnsafeRawBufferPointer) -> Void) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 { if errno == EINTR { continue }; throw failure(url, "read failed") }
            if n == 0 { return total }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
    }

    /// Lowercase hex of a digest's bytes.
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func failure(_ url: URL, _ what: String) -> AtomicFile.Failure {
        AtomicFile.Failure(path: url.path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
