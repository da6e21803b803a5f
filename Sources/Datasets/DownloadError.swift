import Foundation

public enum DownloadError: Error, CustomStringConvertible, Equatable {
    case unsupportedScheme(url: String)
    case sourceMissing(url: String)
    case httpStatus(url: String, status: Int)
    case failed(url: String, attempts: Int, lastError: String)
    case checksumMismatch(url: String, expectedMD5: String, gotMD5: String, bytes: Int64)
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .unsupportedScheme(let u): return "\(u): only http, https and file URLs can be downloaded"
        case .sourceMissing(let u): return "\(u): no such file"
        case .httpStatus(let u, let s): return "\(u): the server answered HTTP \(s)"
        case .failed(let u, let n, let e):
            return "\(u): download failed after \(n) attempt\(n == 1 ? "" : "s"): \(e); check the URL and the network, or point the download stage at a local copy with a file:// URL"
        case .checksumMismatch(let u, let e, let g, let n):
            return "\(u): checksum mismatch: expected MD5 \(e), got \(g) (\(n) bytes); the download was deleted. If this is a different copy of the data on purpose, set the download stage's md5 to match it"
        case .io(let p, let m): return "\(p): \(m)"
        }
    }
}

/// Progress of one download, as the runner's progress line shows it.
public struct DownloadProgress: Sendable, Equatable {
    public let bytes: Int64
    public let totalBytes: Int64?
    /// Average rate of the current attempt, bytes per second.
    public let bytesPerSecond: Double
    public var etaSeconds: Double? {
        guard let total = totalBytes, bytesPerSecond > 0 else { return nil }
        return Double(max(0, total - bytes)) / bytesPerSecond
    }
}

public struct DownloadResult: Sendable, Equatable {
    public let file: URL
    public let bytes: Int64
    public let md5: String
    public let sha256: String
    /// Attempts made (1 when the first one succeeded; 0 when a verified file was already there).
    public let attempts: Int
    /// Bytes taken over from an earlier partial transfer instead of being fetched again.
    public let resumedBytes: Int64
}
