import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// MD5 (what the CIFAR-10 release publishes) and SHA-256 (what the store uses) of a file, in one pass.
enum FileDigests {
    static func compute(_ url: URL, chunkSize: Int = 1 << 20) throws -> (md5: String, sha256: String, bytes: Int64) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DownloadError.io(path: url.path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var md5 = Insecure.MD5()
        var sha = SHA256()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var total: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DownloadError.io(path: url.path, message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                md5.update(bufferPointer: chunk)
                sha.update(bufferPointer: chunk)
            }
            total += Int64(n)
        }
        return (hex(md5.finalize()), hex(sha.finalize()), total)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
