import Foundation

public enum GitInfo {
    /// HEAD's commit of the repository holding `directory`, with "-dirty" when the tree has changes.
    public static func commit(in directory: URL) -> String? {
        guard let head = run(["rev-parse", "HEAD"], in: directory) else { return nil }
        let dirty = run(["status", "--porcelain", "--untracked-files=no"], in: directory).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }

    /// The bytes of `file` as committed at `revision`, in the repository holding it; nil when git, the
    /// repository, the revision or the file at that revision is missing.
    public static func contents(of file: URL, at revision: String) -> Data? {
        // `REV:./name` is resolved against the directory git runs in, wherever the repository's root is.
        guard !revision.hasPrefix("-") else { return nil }
        return runData(["show", "\(revision):./\(file.lastPathComponent)"], in: file.deletingLastPathComponent())
    }

    private static func run(_ args: [String], in directory: URL) -> String? {
        runData(args, in: directory).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    private static func runData(_ args: [String], in directory: URL) -> Data? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", directory.path] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return data
    }
}
