import Foundation

/// What can be wrong with a .tar.gz archive, each naming the archive and, where there is one, the member.
public enum ArchiveError: Error, CustomStringConvertible, Equatable {
    case unreadable(archive: String, message: String)
    case notGzip(archive: String)
    case gzipCorrupt(archive: String, message: String)
    case gzipTruncated(archive: String, compressedBytes: Int64)
    case tarHeaderChecksum(archive: String, offset: Int64, stored: Int, computed: Int)
    case tarHeaderCorrupt(archive: String, offset: Int64, field: String, message: String)
    case tarTruncated(archive: String, member: String)
    case unsafeMemberName(archive: String, member: String)
    case duplicateMember(archive: String, member: String)

    public var description: String {
        switch self {
        case .unreadable(let a, let m): return "\(a): cannot read the archive: \(m)"
        case .notGzip(let a): return "\(a): not a gzip file (no 1f 8b magic); expected a .tar.gz archive"
        case .gzipCorrupt(let a, let m):
            return "\(a): the gzip stream is corrupt (\(m)); delete the file and download it again"
        case .gzipTruncated(let a, let n):
            return "\(a): the gzip stream ends early, after \(n) compressed bytes; the file is truncated, download it again"
        case .tarHeaderChecksum(let a, let o, let s, let c):
            return "\(a): tar header at byte \(o) has checksum \(s) but its bytes sum to \(c); the archive is corrupt"
        case .tarHeaderCorrupt(let a, let o, let f, let m):
            return "\(a): tar header at byte \(o), field '\(f)': \(m)"
        case .tarTruncated(let a, let m): return "\(a): the tar stream ends inside member '\(m)'; the archive is truncated"
        case .unsafeMemberName(let a, let m):
            return "\(a): member '\(m)' has an absolute name or a '..' component (it would escape the extraction directory); refusing the archive"
        case .duplicateMember(let a, let m): return "\(a): member '\(m)' occurs twice; refusing to guess which one to use"
        }
    }
}
