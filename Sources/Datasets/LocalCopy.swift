import AtomicIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// file:// "downloads": a chunked copy, so that a local mirror reports progress like a remote one.
enum LocalCopy {
    static func copy(from source: URL, to partial: URL, reporter: ProgressReporter, chunkSize: Int = 4 << 20) throws {
        let src = open(source.path, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else {
            if errno == ENOENT { throw DownloadError.sourceMissing(url: source.absoluteString) }
            throw DownloadError.io(path: source.path, message: String(cString: strerror(errno)))
        }
        defer { close(src) }
        let dst = open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard dst >= 0 else { throw DownloadError.io(path: partial.path, message: WriteFailure.describe("cannot create", code: errno, path: partial.path)) }
        defer { close(dst) }
        var info = stat()
        let total: Int64? = fstat(src, &info) == 0 ? Int64(info.st_size) : nil
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var copied: Int64 = 0
        reporter.startAttempt(at: 0)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(src, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DownloadError.io(path: source.path, message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { raw in
                    raw.baseAddress.map { Glibc.write(dst, $0 + written, n - written) } ?? -1
                }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw DownloadError.io(path: partial.path, message: WriteFailure.describe("write failed", code: errno, path: partial.path, bytes: n - written))
                }
                written += w
            }
            copied += Int64(n)
            reporter.report(bytes: copied, total: total)
        }
        reporter.finish()
    }
}
