import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stage's `publish` directory must stay inside the project directory: outputs are copied there,
/// so a path such as `../../.ssh` or a symlink to `/etc` would let a pipeline file (or a `--set`)
/// overwrite files anywhere the user can write. Checked when the pipeline resolves and again when
/// publishing, since the directory can change in between.
public enum PublishPath {
    /// Why `path` cannot be a publish directory, or nil when it can. Lexical: relative, not empty,
    /// not the project directory itself, no `..` component, no NUL.
    public static func problem(_ path: String) -> String? {
        if path.isEmpty { return "is empty; name a directory inside the project directory, e.g. \"figures\"" }
        if path.hasPrefix("/") { return "'\(path)' is absolute; it must be relative to the project directory" }
        if path.contains("\u{0}") { return "contains a NUL character" }
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        if components.contains("..") { return "'\(path)' has a '..' component; it must stay inside the project directory" }
        // "." or "./" would publish over pipeline.json and the sources themselves.
        if components.allSatisfy({ $0 == "." }) { return "'\(path)' is the project directory itself; name a directory inside it" }
        return nil
    }

    /// Throws `error(problem)` when a stage's `publish` value is not a string naming a safe directory;
    /// `error` makes the message name where the value came from (the file, or a profile or --set).
    /// Null means "do not publish" (what `--set <stage>.publish=null` asks).
    static func validate(_ value: JSONValue?, directory: URL?, error: (String) -> PipelineError) throws {
        guard let value else { return }
        if case .null = value { return }
        guard let path = value.stringValue else { throw error("expected a string, got \(value.typeName)") }
        if let problem = problem(path) ?? directory.flatMap({ escapingSymlink(path, in: $0) }) { throw error(problem) }
    }

    /// Why publishing to `relative` under `root` would leave `root`, or nil when it would not: the
    /// first existing component that is a symlink resolving outside `root` (or resolving nowhere).
    /// Components that do not exist yet are created as plain directories, so they cannot lead out.
    public static func escapingSymlink(_ relative: String, in root: URL) -> String? {
        guard let realRoot = realPath(root.path) else { return nil }
        var current = root.path
        for component in relative.split(separator: "/") where component != "." {
            current += "/" + component
            var info = stat()
            guard lstat(current, &info) == 0 else { return nil }
            guard info.st_mode & mode_t(S_IFMT) == mode_t(S_IFLNK) else { continue }
            guard let target = realPath(current) else {
                return "'\(current)' is a symlink that leads nowhere; it must stay inside the project directory"
            }
            if !isInside(target, realRoot) {
                return "'\(current)' is a symlink to '\(target)', outside the project directory '\(realRoot)'"
            }
        }
        return nil
    }

    static func isInside(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
