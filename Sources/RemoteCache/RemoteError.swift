import Foundation

/// What can go wrong talking to a remote, in words that name the remote, the URL and what to do.
/// Never carries a token: URLs in remotes.json hold none (`RemoteConfig` refuses them).
public enum RemoteError: Error, CustomStringConvertible, LocalizedError {
    case unknownRemote(name: String, known: [String], file: String)
    case noRemote(file: String)
    case badConfig(file: String, problem: String)
    case readOnly(remote: String)
    /// The server could not be reached at all (refused, no route, DNS): nothing was transferred.
    case unreachable(url: String, reason: String)
    case untrustedCertificate(url: String, detail: String)
    case unauthorized(url: String, status: Int, remote: String, tokenHint: String)
    case httpStatus(url: String, status: Int, method: String)
    /// A transfer that failed after its retries (connection lost, 5xx).
    case transferFailed(url: String, reason: String)
    case local(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownRemote(let name, let known, let file):
            return "no remote named '\(name)' in \(file)" + (known.isEmpty ? "; add one with `bnrepro remote add NAME URL`" : " (known: \(known.joined(separator: ", ")))")
        case .noRemote(let file):
            return "no remote given and no default one in \(file); name one with --remote, or `bnrepro remote add NAME URL --default`"
        case .badConfig(let file, let problem): return "\(file): \(problem)"
        case .readOnly(let remote): return "remote '\(remote)' is read-only (remotes.json says \"readOnly\": true); nothing was pushed"
        case .unreachable(let url, let reason): return "cannot reach the remote at \(url): \(reason)"
        case .untrustedCertificate(let url, let detail):
            return "the TLS certificate of \(url) is not trusted by this system's trust store (\(detail)); install the server's CA certificate "
                + "(Debian: copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates) or use a certificate from a public CA"
        case .unauthorized(let url, let status, let remote, let tokenHint):
            let what = status == 401 ? "401 Unauthorized: the server wants a valid bearer token" : "403 Forbidden: the token is not allowed to do this"
            return "remote '\(remote)' answered \(what) (\(url)); \(tokenHint)"
        case .httpStatus(let url, let status, let method):
            return "\(method) \(url) answered HTTP \(status)\(RemoteError.statusHint(status, method: method))"
        case .transferFailed(let url, let reason): return "transfer of \(url) failed: \(reason)"
        case .local(let path, let reason): return "\(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }

    /// Whether trying again later may succeed: a lost connection, a timeout, a busy or failing server.
    var isTransient: Bool {
        switch self {
        case .transferFailed: return true
        case .httpStatus(_, let status, _): return status == 408 || status == 429 || status >= 500
        default: return false
        }
    }

    private static func statusHint(_ status: Int, method: String) -> String {
        switch (status, method) {
        case (405, "PUT"): return " (the server does not accept uploads: for nginx, `dav_methods PUT;` in its location)"
        case (413, _): return " (the object is larger than the server accepts: for nginx, `client_max_body_size 0;`)"
        case (409, "PUT"): return " (the server cannot create the directory: for nginx, `create_full_put_path on;`)"
        default: return ""
        }
    }
}
