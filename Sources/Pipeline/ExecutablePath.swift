import Foundation

/// Finding an external tool (`dot`, `sbatch`) the way a shell would.
public enum ExecutablePath {
    /// The tool's path on $PATH, if any.
    public static func locate(_ tool: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let dirs = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return dirs.map { URL(fileURLWithPath: $0).appendingPathComponent(tool) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
