import Foundation

/// A user's tokens for remotes, never in the project: `$BNREPRO_REMOTE_TOKEN_<NAME>` (the remote's name
/// upper-cased, other characters than letters and digits as `_`), else the per-user file
/// `$XDG_CONFIG_HOME/bnrepro/credentials.json` (default `~/.config/bnrepro/credentials.json`):
///
///     {"remotes": {"lab": {"tokenFile": "/home/me/.secrets/lab-cache-token"}}}
///
/// or `{"tokenEnv": "LAB_CACHE_TOKEN"}` to name another environment variable.
public struct UserCredentials: Sendable {
    struct File: Codable {
        struct Entry: Codable { var tokenFile: String?; var tokenEnv: String? }
        var remotes: [String: Entry]
    }

    public static let defaultLocation = "~/.config/bnrepro/credentials.json"

    let environment: [String: String]
    public let file: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config")
        file = config.appendingPathComponent("bnrepro/credentials.json")
    }

    static func environmentVariable(forRemote name: String) -> String {
        "BNREPRO_REMOTE_TOKEN_" + String(name.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// The token for the remote, or nil when none is configured (the remote may not need one).
    func token(forRemote name: String) throws -> String? {
        if let value = environment[UserCredentials.environmentVariable(forRemote: name)], !value.isEmpty { return value }
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let entries: File
        do { entries = try JSONDecoder().decode(File.self, from: try Data(contentsOf: file)) } catch {
            throw RemoteError.badConfig(file: file.path, problem: "not a credentials file ({\"remotes\": {NAME: {\"tokenFile\": PATH}}}): \(error)")
        }
        guard let entry = entries.remotes[name] else { return nil }
        if let variable = entry.tokenEnv {
            guard let value = environment[variable], !value.isEmpty else {
                throw RemoteError.badConfig(file: file.path, problem: "remote '\(name)' takes its token from $\(variable), which is not set")
            }
            return value
        }
        guard let path = entry.tokenFile else { return nil }
        let tokenURL = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        guard let text = try? String(contentsOf: tokenURL, encoding: .utf8) else {
            throw RemoteError.badConfig(file: file.path, problem: "remote '\(name)': cannot read its token file \(tokenURL.path)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: { $0.isNewline }) else {
            throw RemoteError.badConfig(file: file.path, problem: "remote '\(name)': its token file \(tokenURL.path) holds no single-line token")
        }
        return token
    }

    /// Where a token for the remote would come from, for a 401's message (never the token itself).
    func hint(forRemote name: String) -> String {
        "set $\(UserCredentials.environmentVariable(forRemote: name)) or a \"tokenFile\" for '\(name)' in \(file.path)"
    }
}
