@testable import Experiments
import Foundation
import XCTest

/// The source lock (`KindSourceLock`): a kind whose output-deciding source changed must have its
/// version bumped (outputs can change) or the lock refreshed (they cannot), never neither.
final class KindSourceLockTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `make kinds-lock` runs this with BNREPRO_WRITE_KIND_LOCK=1: it rewrites the lock instead of checking it.
    func testEveryKindsSourceMatchesTheLock() throws {
        let now = try KindSourceDigest(root: Self.root).entries()
        if ProcessInfo.processInfo.environment["BNREPRO_WRITE_KIND_LOCK"] == "1" {
            let url = Self.root.appendingPathComponent("Sources/Experiments/KindSourceLock.swift")
            try Data(KindSourceDigest.lockSource(now).utf8).write(to: url)
            print("KIND LOCK WRITTEN: \(now.count) entries to \(url.path); rebuild to embed it")
            return
        }
        var problems: [String] = []
        for key in now.keys.sorted() {
            guard let current = now[key] else { continue }
            guard let locked = KindSourceLock.entries[key] else {
                problems.append("'\(key)' is not in the lock: run `make kinds-lock`")
                continue
            }
            switch (locked.digest == current.digest, locked.version == current.version) {
            case (true, true): continue
            case (false, true):
                problems.append("""
                    '\(key)' (version \(current.version)): the source that decides its outputs changed since the lock \
                    (\(current.files.count) files: its own and \(Set(current.files.map { $0.split(separator: "/").dropLast().joined(separator: "/") }).sorted().joined(separator: ", "))). \
                    If its outputs can change, bump its version; if they cannot (a comment, a rename, a refactoring), \
                    refresh the lock with `make kinds-lock`. To tell which, `bnrepro audit <stage>` recomputes a cached \
                    result with the new code: identical means the outputs did not change.
                    """)
            case (_, false):
                problems.append("'\(key)': version \(locked.version) in the lock, \(current.version) in the code: refresh the lock with `make kinds-lock`")
            }
        }
        for key in KindSourceLock.entries.keys.sorted() where now[key] == nil {
            problems.append("'\(key)' is in the lock but no kind or figure has that name: run `make kinds-lock`")
        }
        XCTAssertTrue(problems.isEmpty, "the source lock is stale:\n" + problems.joined(separator: "\n"))
    }

    /// The files behind a kind follow the names its file uses, not comments, strings or private helpers.
    func testAKindsFilesFollowTheNamesItUses() throws {
        let root = try ExperimentFixtures.temporaryDirectory("kind-sources")
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try write("Sources/Experiments/AStage.swift",
                  "import Statistics\nstruct AStage {\n    let x = Helper()\n    let m = mean()\n    // Unrelated in a comment\n    let s = \"Unrelated\"\n}\n")
        try write("Sources/Experiments/Helper.swift", "struct Helper {}\n")
        try write("Sources/Experiments/Helper+More.swift", "extension Helper { var more: Int { 1 } }\n")
        // Declares the name AStage calls, but privately: not what AStage calls.
        try write("Sources/Experiments/Unrelated.swift", "struct Unrelated {}\nprivate func mean() {}\n")
        try write("Sources/Experiments/CostModels.swift", "extension AStage { var cost: Int { 2 } }\n")
        try write("Sources/Statistics/Mean.swift", "func mean() {}\n")
        let sources = try KindSourceDigest(root: root)
        let file = try XCTUnwrap(sources.declaringFile(of: "AStage"))
        let files = try sources.files(from: [file])
        XCTAssertEqual(files, ["Sources/Experiments/AStage.swift", "Sources/Experiments/Helper+More.swift",
                               "Sources/Experiments/Helper.swift", "Sources/Statistics/Mean.swift"])
        let before = try sources.digest(of: files)
        try write("Sources/Experiments/Unrelated.swift", "struct Unrelated { let n = 2 }\n")
        XCTAssertEqual(try KindSourceDigest(root: root).digest(of: files), before, "a file the kind does not use")
        try write("Sources/Experiments/Helper.swift", "struct Helper {} // changed\n")
        XCTAssertNotEqual(try KindSourceDigest(root: root).digest(of: files), before, "a comment in a file it uses changes the digest")
    }
}
