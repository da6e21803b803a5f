import ArgumentParser
import Foundation
import Pipeline

struct VerifyCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every cached object; quarantine corrupt ones so their stages run again.")

    @OptionGroup var options: PipelineOptions

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let started = Date()
        let result = try Maintenance(store: store).verify()
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "checked %d objects (%@) in %.2fs", result.checked, Format.bytes(result.bytes), seconds))
        if result.corrupt.isEmpty { print("all objects match their digests"); return }
        for digest in result.corrupt { print("corrupt: \(digest) (quarantined)") }
        print("stale now, rerun by the next `bnrepro run`: " + Array(Set(result.affectedStages)).sorted().joined(separator: ", "))
        throw ExitCode(1)
    }
}
