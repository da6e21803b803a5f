import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 of bytes and files, as lowercase hex. Files are read in large chunks so hashing runs at
/// the speed of the hash, not of the system calls.
public enum Digest {
    public static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }
    public static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    public static func sha256(file url: URL) throws -> (digest: String, size: Int64) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIO.ioError(url, "cannot open") }
        defer { close(fd) }
        var hasher = SHA256()
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 { if errno == EINTR { continue }; throw FileIO.ioError(url, "read failed") }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
        return (hex(hasher.finalize()), total)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
