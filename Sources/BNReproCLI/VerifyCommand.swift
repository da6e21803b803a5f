import ArgumentParser
import Foundation
import Pipeline

struct VerifyCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every cached object and read every record; quarantine corrupt objects so their stages run again.",
        discussion: """
        Reported apart: corrupt objects (bytes that do not match their digest, or a symlink in objects/; \
        quarantined), objects that could not be read (left in place), and action records that cannot be \
        read or are in a newer format. Exits 1 if anything but a newer record was found.
        """)

    @OptionGroup var options: PipelineOptions

    func run(registry: KindRegistry) throws {
        let store = try options.cacheStore()
        let started = Date()
        let result = Maintenance(store: store).verify()
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "checked %d objects (%@) in %.2fs", result.checked, Format.bytes(result.bytes), seconds))
        for (digest, why) in result.corrupt { print("corrupt: \(digest) (\(why); quarantined)") }
        for (digest, why) in result.notQuarantined { print("corrupt, NOT quarantined: \(digest) (\(why))") }
        for (digest, why) in result.unreadable { print("unreadable object: \(digest) (\(why))") }
        for (key, why) in result.unreadableRecords { print("unreadable record: \(key) (\(why))") }
        for (key, v) in result.newerRecords {
            print("newer record: \(key) (record version \(v); this binary reads up to \(ActionRecord.currentSchemaVersion); left as is)")
        }
        if !result.unreadable.isEmpty { print("\(result.unreadable.count) object\(result.unreadable.count == 1 ? "" : "s") could not be read") }
        if !result.unreadableRecords.isEmpty {
            print("\(result.unreadableRecords.count) record\(result.unreadableRecords.count == 1 ? "" : "s") could not be read; "
                  + "`bnrepro gc --unreadable` removes them")
        }
        if !result.affectedStages.isEmpty {
            print("stale now, rerun by the next `bnrepro run`: " + Array(Set(result.affectedStages)).sorted().joined(separator: ", "))
        }
        if result.isClean { print("all objects match their digests"); return }
        throw ExitCode(1)
    }
}
