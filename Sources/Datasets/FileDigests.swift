import AtomicIO
import Crypto
import Foundation

/// MD5 (what the CIFAR-10 release publishes) and SHA-256 (what the store uses) of a file, in one pass.
enum FileDigests {
    static func compute(_ url: URL) throws -> (md5: String, sha256: String, bytes: Int64) {
        var md5 = Insecure.MD5()
        var sha = SHA256()
        do {
            let total = try FileChunks.forEach(url) { chunk in
                md5.update(bufferPointer: chunk)
                sha.update(bufferPointer: chunk)
            }
            return (FileChunks.hex(md5.finalize()), FileChunks.hex(sha.finalize()), total)
        } catch let f as AtomicFile.Failure {
            throw DownloadError.io(path: f.path, message: f.message)
        }
    }
}
