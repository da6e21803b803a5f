import Foundation

/// A file's MD5 as `md5sum` prints it, for the `download.params.md5` of a generated archive: an
/// independent tool, not the pipeline's own digest code that the download stage checks it with.
public enum MD5Sum {
    public static func of(_ file: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
