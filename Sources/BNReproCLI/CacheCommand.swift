import ArgumentParser
import Foundation
import Pipeline

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Set up a cache directory (a cache that a group shares).",
        subcommands: [CacheInitCommand.self])
}

struct CacheInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create (or convert) DIR as a cache that a Unix group shares.",
        discussion: """
        The directories become the group's and setgid (rwxrwsr-x), so everything created below them belongs \
        to the group; every bnrepro that opens the cache sets umask 002, so records, refs and locks are \
        group-writable and objects group-readable, whatever the user's own umask. DIR must be empty, missing, \
        or already a bnrepro cache (its files are then given to the group). You must be a member of the group. \
        Point every user at it with --cache DIR or BNREPRO_CACHE=DIR. On a network filesystem it warns and \
        names the mount option that decides whether its locks hold across nodes.
        """)

    @Argument(help: "The cache directory.") var directory: String
    @Option(help: "The group that shares it (name or number).") var group: String

    func run() throws {
        let root = URL(fileURLWithPath: directory)
        let marker = try SharedCache.initialize(root, group: group)
        print("\(root.standardizedFileURL.path): a bnrepro cache shared by group '\(marker.group)' (gid \(marker.gid))")
        print("every user: bnrepro run --cache \(root.standardizedFileURL.path)   (or export BNREPRO_CACHE=\(root.standardizedFileURL.path))")
        if let warning = NetworkFilesystem.warning(for: root) { print(warning) }
    }
}
