import ArgumentParser
import Foundation
import Pipeline

/// The path of the running binary, which `local` runs again as `exec` for each stage.
enum SelfExecutable {
    static var url: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }
}
