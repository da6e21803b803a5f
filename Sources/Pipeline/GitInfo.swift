import Foundation

public enum GitInfo {
    /// HEAD's commit of the repository holding `directory`, with "-dirty" when the tree has changes.
    public static func commit(in directory: URL) -> String? {
        guard let head = run(["rev-parse", "HEAD"], in: directory) else { return nil }
        let dirty = run(["status", "--porcelain", "--untracked-files=no"], in: directory).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }

    private static func run(_ args: [String], in directory: URL) -> String? {
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
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
