import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Pipeline
import XCTest

/// `bnrepro cache init DIR --group G` and what every writer of a shared cache does (issue 14), through
/// the real binary; and the network-filesystem warning from /proc/mounts text.
final class SharedCacheTests: XCTestCase {
    /// A group other than the caller's own, so that the test sees the group being given, not inherited.
    private func otherGroup() throws -> (name: String, gid: gid_t) {
        for name in ["users", "nogroup", "staff", "daemon"] {
            if let g = getgrnam(name), g.pointee.gr_gid != getegid() { return (name, g.pointee.gr_gid) }
        }
        throw XCTSkip("no group other than the caller's on this machine")
    }

    private func mode(_ url: URL) -> (mode: mode_t, gid: gid_t) {
        var st = stat()
        _ = lstat(url.path, &st)
        return (st.st_mode, st.st_gid)
    }

    func testInitThenARunLeavesEveryFileTheGroupsWithAUserUmaskOf022() throws {
        let group = try otherGroup()
        let box = try Sandbox("""
        {"stages": [{"name": "a", "kind": "test-write", "params": {"text": "A"}},
                    {"name": "b", "kind": "test-concat", "deps": ["a"]}]}
        """)
        let shared = box.directory.appendingPathComponent("shared-cache")
        let made = try box.run(["cache", "init", shared.path, "--group", group.name])
        XCTAssertEqual(made.status, 0, made.all)
        XCTAssertTrue(made.out.contains("shared by group '\(group.name)'"), made.out)
        XCTAssertEqual(SharedCache.marker(in: shared)?.gid, UInt32(group.gid))

        // A user whose umask would lock the group out: the run must not.
        let previous = umask(0o022)
        defer { umask(previous) }
        let run = try box.run(["run", "--cache", shared.path])
        XCTAssertEqual(run.status, 0, run.all)

        var files = 0, directories = 0
        let walker = try XCTUnwrap(FileManager.default.enumerator(at: shared, includingPropertiesForKeys: nil))
        for case let url as URL in walker {
            let (m, gid) = mode(url)
            let name = url.path.replacingOccurrences(of: shared.path, with: "")
            XCTAssertEqual(gid, group.gid, "\(name) belongs to the group")
            if m & S_IFMT == S_IFDIR {
                directories += 1
                XCTAssertEqual(m & 0o2070, 0o2070, "\(name): setgid and group rwx (mode \(String(m & 0o7777, radix: 8)))")
            } else {
                files += 1
                XCTAssertEqual(m & 0o040, 0o040, "\(name): group-readable (mode \(String(m & 0o777, radix: 8)))")
                if !url.path.contains("/objects/") {
                    XCTAssertEqual(m & 0o020, 0o020, "\(name): group-writable (mode \(String(m & 0o777, radix: 8)))")
                } else {
                    XCTAssertEqual(m & 0o222, 0, "\(name): objects stay read-only")
                }
            }
        }
        XCTAssertGreaterThan(files, 6, "records, refs, objects and locks were written")
        XCTAssertGreaterThan(directories, 8)
    }

    func testInitRefusesAForeignDirectoryAndAnUnknownGroupAndConvertsACache() throws {
        let group = try otherGroup()
        let box = try Sandbox(#"{"stages": [{"name": "a", "kind": "test-write", "params": {"text": "A"}}]}"#)
        let foreign = box.directory.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        let refused = try box.run(["cache", "init", foreign.path, "--group", group.name])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("neither empty nor a bnrepro cache"), refused.all)
        let unknown = try box.run(["cache", "init", box.directory.appendingPathComponent("x").path, "--group", "no-such-group-here"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("no group 'no-such-group-here'"), unknown.all)

        // An existing private cache becomes shared, its objects included.
        XCTAssertEqual(try box.run(["run"]).status, 0)
        let converted = try box.run(["cache", "init", box.cache.path, "--group", String(group.gid)])
        XCTAssertEqual(converted.status, 0, converted.all)
        for object in box.objects() {
            XCTAssertEqual(mode(object).gid, group.gid)
            XCTAssertEqual(mode(object).mode & 0o777, 0o444)
        }
        XCTAssertEqual(mode(box.cache.appendingPathComponent("actions")).mode & 0o2070, 0o2070)
    }

    func testNetworkFilesystemsAreNamedWithTheOptionToCheck() {
        let mounts = """
        /dev/sda1 / ext4 rw,relatime 0 0
        server:/export /shared nfs4 rw,relatime,vers=4.2,local_lock=none 0 0
        mgs@tcp:/lustre /lustre lustre rw,localflock 0 0
        /dev/sdb1 /shared/local ext4 rw 0 0
        """
        XCTAssertNil(NetworkFilesystem.of("/home/me/cache", mounts: mounts))
        XCTAssertEqual(NetworkFilesystem.of("/shared/group/cache", mounts: mounts)?.filesystem.name, "NFS")
        XCTAssertNil(NetworkFilesystem.of("/shared/local/cache", mounts: mounts), "the longest mount point decides")
        XCTAssertNil(NetworkFilesystem.of("/sharedx/cache", mounts: mounts), "a prefix of the name is not a parent")
        let lustre = NetworkFilesystem.warning(for: URL(fileURLWithPath: "/lustre/proj/cache"), mounts: mounts) ?? ""
        XCTAssertTrue(lustre.contains("Lustre") && lustre.contains("`flock`") && lustre.contains("localflock"), lustre)
        XCTAssertTrue(lustre.contains("cannot prove"), lustre)
        let nfs = NetworkFilesystem.warning(for: URL(fileURLWithPath: "/shared/cache"), mounts: mounts) ?? ""
        XCTAssertTrue(nfs.contains("local_lock"), nfs)
        XCTAssertNil(NetworkFilesystem.warning(for: FileManager.default.temporaryDirectory), "this machine's temp dir is local")
    }
}
