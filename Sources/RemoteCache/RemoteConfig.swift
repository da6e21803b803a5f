import Foundation
import Pipeline

/// The remotes of a project: `remotes.json` beside pipeline.json, meant to be committed, so that everyone
/// who clones the project finds the lab's remote. It holds names, URLs and whether a remote is read-only,
/// never credentials (those are in `UserCredentials`'s per-user file).
///
///     {"default": "lab", "remotes": {"lab": {"url": "https://cache.lab.example/bn", "readOnly": false}}}
public struct RemoteConfig: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var url: String
        public var readOnly: Bool?
    }

    public static let fileName = "remotes.json"

    public var defaultRemote: String?
    public var remotes: [String: Entry]

    enum CodingKeys: String, CodingKey { case defaultRemote = "default", remotes }

    public init() { remotes = [:] }

    public static func url(projectDirectory: URL) -> URL { projectDirectory.appendingPathComponent(fileName) }

    /// The project's remotes; an absent file is a project without remotes.
    public static func load(projectDirectory: URL) throws -> RemoteConfig {
        let file = url(projectDirectory: projectDirectory)
        guard FileManager.default.fileExists(atPath: file.path) else { return RemoteConfig() }
        do {
            return try JSONDecoder().decode(RemoteConfig.self, from: try Data(contentsOf: file))
        } catch let error as DecodingError {
            throw RemoteError.badConfig(file: file.path, problem: "not a remotes file: \(error)")
        } catch {
            throw RemoteError.badConfig(file: file.path, problem: "cannot read: \(error.localizedDescription)")
        }
    }

    public func save(projectDirectory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.atomicWrite(try encoder.encode(self) + Data("\n".utf8), to: RemoteConfig.url(projectDirectory: projectDirectory))
    }

    public mutating func add(name: String, url: String, readOnly: Bool, makeDefault: Bool) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw RemoteError.badConfig(file: RemoteConfig.fileName, problem: "'\(name)' is not a remote name (letters, digits and ._- only)")
        }
        _ = try RemoteConfig.parseURL(url)
        remotes[name] = Entry(url: url, readOnly: readOnly ? true : nil)
        if makeDefault || remotes.count == 1 { defaultRemote = name }
    }

    public mutating func remove(name: String) throws {
        guard remotes.removeValue(forKey: name) != nil else {
            throw RemoteError.unknownRemote(name: name, known: remotes.keys.sorted(), file: RemoteConfig.fileName)
        }
        if defaultRemote == name { defaultRemote = nil }
    }

    /// The named remote, else the default one, with its token from the user's credentials.
    public func resolve(_ name: String?, projectDirectory: URL, credentials: UserCredentials) throws -> Remote {
        let file = RemoteConfig.url(projectDirectory: projectDirectory).path
        guard let chosen = name ?? defaultRemote else { throw RemoteError.noRemote(file: file) }
        guard let entry = remotes[chosen] else { throw RemoteError.unknownRemote(name: chosen, known: remotes.keys.sorted(), file: file) }
        let url = try RemoteConfig.parseURL(entry.url)
        return Remote(name: chosen, url: url, readOnly: entry.readOnly ?? false, token: try credentials.token(forRemote: chosen),
                      tokenHint: credentials.hint(forRemote: chosen))
    }

    /// http, https or file URLs, without user or password in them: remotes.json is committed.
    static func parseURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https", "file"].contains(scheme) else {
            throw RemoteError.badConfig(file: RemoteConfig.fileName, problem: "'\(text)' is not an http://, https:// or file:// URL")
        }
        if url.user != nil || url.password != nil {
            throw RemoteError.badConfig(file: RemoteConfig.fileName,
                                        problem: "the URL holds credentials, and remotes.json is meant to be committed; put a token in \(UserCredentials.defaultLocation) instead")
        }
        if scheme != "file" && url.host == nil { throw RemoteError.badConfig(file: RemoteConfig.fileName, problem: "'\(text)' names no host") }
        return url
    }
}

/// One remote, ready to use.
public struct Remote: Sendable {
    public let name: String
    public let url: URL
    public let readOnly: Bool
    /// Sent as `Authorization: Bearer …`; never printed, logged or stored in a record.
    let token: String?
    /// Where the token comes from, for a 401's message.
    let tokenHint: String

    public init(name: String, url: URL, readOnly: Bool = false, token: String? = nil, tokenHint: String = "") {
        self.name = name
        self.url = url
        self.readOnly = readOnly
        self.token = token
        self.tokenHint = tokenHint
    }

    public var hasToken: Bool { token != nil }

    /// The store the URL's scheme speaks.
    public func store() -> any RemoteStore {
        url.isFileURL ? FileRemoteStore(root: url) : HTTPRemoteStore(remote: self)
    }
}
