import Foundation
import Pipeline
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A remote that speaks Bazel's HTTP cache protocol: HEAD, GET and PUT on `<url>/ac/<key>` and
/// `<url>/cas/<sha256>`. nginx with WebDAV PUT serves it as it is, bazel-remote with
/// `--disable_http_ac_validation` (our records are JSON, not Bazel's ActionResult protobufs).
public struct HTTPRemoteStore: RemoteStore {
    let remote: Remote

    public init(remote: Remote) { self.remote = remote }

    func url(_ path: RemotePath) -> URL {
        let base = remote.url.absoluteString.hasSuffix("/") ? remote.url.absoluteString : remote.url.absoluteString + "/"
        return URL(string: base + path.relative) ?? remote.url.appendingPathComponent(path.relative)
    }

    public func location(of path: RemotePath) -> String { url(path).absoluteString }

    public func size(of path: RemotePath) throws -> Int64? {
        let response = try send("HEAD", path)
        if response.status == 404 { return nil }
        try check(response, "HEAD", path)
        return response.contentLength ?? 0
    }

    public func read(_ path: RemotePath) throws -> Data? {
        let response = try send("GET", path)
        if response.status == 404 { return nil }
        try check(response, "GET", path)
        return response.body
    }

    public func download(_ path: RemotePath, to file: URL, progress: @escaping @Sendable (Int64) -> Void) throws -> Bool {
        guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = try? FileHandle(forWritingTo: file) else {
            throw RemoteError.local(path: file.path, reason: "cannot create the download file")
        }
        defer { try? handle.close() }
        let response = try send("GET", path, sink: .file(handle), progress: progress)
        if response.status == 404 { return false }
        try check(response, "GET", path)
        try handle.synchronize()
        if let expected = response.contentLength, let got = FileIO.size(file), got != expected {
            throw RemoteError.transferFailed(url: location(of: path), reason: "the connection closed after \(got) of \(expected) bytes")
        }
        return true
    }

    public func upload(_ path: RemotePath, from file: URL, progress: @escaping @Sendable (Int64) -> Void) throws {
        try check(try send("PUT", path, body: .file(file), progress: progress), "PUT", path)
    }

    public func create(_ path: RemotePath, data: Data) throws -> Bool {
        // Servers that honour If-None-Match on PUT (Apache's mod_dav) refuse to replace; nginx ignores it.
        let response = try send("PUT", path, body: .data(data), headers: ["If-None-Match": "*"])
        if response.status == 412 { return false }
        try check(response, "PUT", path)
        return true
    }

    private func send(_ method: String, _ path: RemotePath, body: HTTPCall.Body = .none, sink: HTTPCall.Sink = .memory,
                      headers: [String: String] = [:], progress: (@Sendable (Int64) -> Void)? = nil) throws -> HTTPCall.Response {
        var request = URLRequest(url: url(path), cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 60)
        request.httpMethod = method
        if let token = remote.token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if case .data = body { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if case .file = body { request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        do { return try HTTPCall.perform(request, body: body, sink: sink, progress: progress) } catch {
            throw HTTPRemoteStore.explain(error, url: location(of: path))
        }
    }

    private func check(_ response: HTTPCall.Response, _ method: String, _ path: RemotePath) throws {
        switch response.status {
        case 200..<300: return
        case 401, 403:
            throw RemoteError.unauthorized(url: location(of: path), status: response.status, remote: remote.name,
                                           tokenHint: remote.hasToken ? "the token sent was refused; " + remote.tokenHint : "no token is configured; " + remote.tokenHint)
        default: throw RemoteError.httpStatus(url: location(of: path), status: response.status, method: method)
        }
    }

    /// URLError's own text on Linux is a code number; say what happened, and whether it was the certificate.
    static func explain(_ error: Error, url: String) -> RemoteError {
        guard let e = error as? URLError else { return .transferFailed(url: url, reason: "\(error)") }
        switch e.code {
        case .cannotConnectToHost: return .unreachable(url: url, reason: "connection refused: is the server running?")
        case .cannotFindHost, .dnsLookupFailed: return .unreachable(url: url, reason: "the host name could not be resolved")
        case .notConnectedToInternet: return .unreachable(url: url, reason: "no network connection")
        case .serverCertificateUntrusted, .serverCertificateHasUnknownRoot:
            return .untrustedCertificate(url: url, detail: "unknown issuer or self-signed")
        case .serverCertificateHasBadDate, .serverCertificateNotYetValid:
            return .untrustedCertificate(url: url, detail: "expired or not yet valid")
        case .secureConnectionFailed:
            return .untrustedCertificate(url: url, detail: "the TLS handshake failed: a certificate this system does not trust, or not TLS at all")
        case .timedOut: return .transferFailed(url: url, reason: "timed out waiting for data")
        case .networkConnectionLost: return .transferFailed(url: url, reason: "the connection was lost mid-transfer")
        default:
            // swift-corelibs-foundation gives most libcurl failures code -1 with curl's own words as the
            // description ("SSL certificate problem: self-signed certificate").
            let words = (e as NSError).userInfo[NSLocalizedDescriptionKey] as? String ?? ""
            if words.contains("certificate") { return .untrustedCertificate(url: url, detail: words) }
            return .transferFailed(url: url, reason: words.isEmpty ? "URL error \(e.code.rawValue)" : words)
        }
    }
}
