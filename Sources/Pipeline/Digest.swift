import AtomicIO
import Crypto
import Foundation

/// SHA-256 of bytes and files, as lowercase hex.
public enum Digest {
    public static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }
    public static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    public static func sha256(file url: URL) throws -> (digest: String, size: Int64) {
        var hasher = SHA256()
        do {
            let size = try FileChunks.forEach(url) { hasher.update(bufferPointer: $0) }
            return (hex(hasher.finalize()), size)
        } catch let f as AtomicFile.Failure {
            throw PipelineError.io(path: f.path, reason: f.message)
        }
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 { FileChunks.hex(bytes) }

    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
