import ArgumentParser
import Foundation
import Pipeline
import RemoteCache

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "The remotes results are pushed to and pulled from (remotes.json beside pipeline.json).",
        discussion: """
        remotes.json holds names, URLs and whether a remote is read-only; commit it. Tokens are per user: \
        $BNREPRO_REMOTE_TOKEN_<NAME>, or {"remotes": {"<name>": {"tokenFile": PATH}}} in \
        ~/.config/bnrepro/credentials.json ($XDG_CONFIG_HOME/bnrepro/credentials.json).
        """,
        subcommands: [RemoteAddCommand.self, RemoteListCommand.self, RemoteRemoveCommand.self])
}

struct RemoteAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add (or change) a remote.",
        discussion: """
        Examples:
          bnrepro remote add lab https://cache.lab.example/bn --default
          bnrepro remote add paper https://cache.lab.example/bn --read-only
          bnrepro remote add shared file:///proj/bn/remote
        """)

    @Option(name: .long, help: "The pipeline file (remotes.json is beside it).") var pipeline: String = "pipeline.json"
    @Argument(help: "The remote's name.") var name: String
    @Argument(help: "http://, https:// or file:// URL of the cache's root (it holds ac/ and cas/).") var url: String
    @Flag(name: .customLong("default"), help: "Use it when --remote is not given.") var makeDefault = false
    @Flag(name: .customLong("read-only"), help: "Only pull from it: push refuses.") var readOnly = false

    func run() throws {
        let project = projectDirectory(pipeline)
        var config = try RemoteConfig.load(projectDirectory: project)
        try config.add(name: name, url: url, readOnly: readOnly, makeDefault: makeDefault)
        try config.save(projectDirectory: project)
        print("remote '\(name)' → \(url)\(readOnly ? " (read-only)" : "")\(config.defaultRemote == name ? ", the default" : ""), in \(RemoteConfig.url(projectDirectory: project).path)")
    }
}

struct RemoteListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The project's remotes, and whether you have a token for each.")

    @Option(name: .long, help: "The pipeline file (remotes.json is beside it).") var pipeline: String = "pipeline.json"

    func run() throws {
        let project = projectDirectory(pipeline)
        let config = try RemoteConfig.load(projectDirectory: project)
        guard !config.remotes.isEmpty else {
            print("no remotes in \(RemoteConfig.url(projectDirectory: project).path); add one with `bnrepro remote add NAME URL`")
            return
        }
        let credentials = UserCredentials()
        var rows = [["name", "url", "", "token"]]
        for name in config.remotes.keys.sorted() {
            let remote = try config.resolve(name, projectDirectory: project, credentials: credentials)
            let flags = [config.defaultRemote == name ? "default" : nil, remote.readOnly ? "read-only" : nil].compactMap { $0 }
            rows.append([name, remote.url.absoluteString, flags.joined(separator: ", "), remote.hasToken ? "yes" : "none"])
        }
        print(Format.table(rows), terminator: "")
    }
}

struct RemoteRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a remote from remotes.json (nothing on the remote is touched).")

    @Option(name: .long, help: "The pipeline file (remotes.json is beside it).") var pipeline: String = "pipeline.json"
    @Argument(help: "The remote's name.") var name: String

    func run() throws {
        let project = projectDirectory(pipeline)
        var config = try RemoteConfig.load(projectDirectory: project)
        try config.remove(name: name)
        try config.save(projectDirectory: project)
        print("removed remote '\(name)'")
    }
}

private func projectDirectory(_ pipeline: String) -> URL {
    URL(fileURLWithPath: pipeline).standardizedFileURL.deletingLastPathComponent()
}

/// `--remote` and `--transfers`, for the commands that talk to a remote.
struct RemoteOptions: ParsableArguments {
    @Option(help: "The remote to use (default: the default one in remotes.json).") var remote: String?
    @Option(help: "Files to transfer at once.") var transfers: Int = 4

    func validate() throws {
        if transfers < 1 { throw ValidationError("--transfers must be at least 1, got \(transfers)") }
    }

    func resolve(_ options: PipelineOptions) throws -> Remote {
        try RemoteConfig.load(projectDirectory: options.projectDirectory)
            .resolve(remote, projectDirectory: options.projectDirectory, credentials: UserCredentials())
    }

    var transferSettings: Transfers { Transfers(jobs: transfers) }
}
