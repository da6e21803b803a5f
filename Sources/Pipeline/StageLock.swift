import AtomicIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One worker per stage key at a time: an flock on `<cache>/locks/<key>`, held while `bnrepro exec`
/// runs the stage. The cache lock keeps two runners apart, but not a worker that outlived its runner
/// (killed with SIGKILL) or a cluster job still running after its submitter was stopped; this lock
/// does, whoever started the workers. The kernel releases it when its holder dies. The holder writes
/// who it is into the file, so that a waiting worker can say for whom it waits.
///
/// `gc` deletes the files of locks nobody holds (`removeIdleLocks`), taking each lock before it unlinks
/// the file. A worker that opened the file just before that unlink would then hold a lock on a file no
/// longer in locks/, which a newcomer would not see; so after taking the lock a worker checks that the
/// path still names the file it locked, and starts over if not.
final class StageLock {
    private let fd: Int32

    /// Blocks until the stage is ours; `onWait` is told the holder once, before blocking.
    init(store: CacheStore, key: String, onWait: (String) -> Void) throws {
        let directory = store.locksDirectory
        try FileIO.createDirectory(directory)
        let url = directory.appendingPathComponent(key)
        var told = false
        while true {
            let fd = open(url.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw FileIO.ioError(url, "cannot open the stage lock") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK else { close(fd); throw FileIO.ioError(url, "cannot lock") }
                if !told {
                    let holder = (try? String(contentsOf: url, encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 } ?? "another worker"
                    onWait(holder)
                    told = true
                }
                while flock(fd, LOCK_EX) != 0 {
                    if errno != EINTR { close(fd); throw FileIO.ioError(url, "cannot lock") }
                }
            }
            if StageLock.stillNamed(fd, url) { self.fd = fd; break }
            close(fd)
        }
        // Who holds it, for a worker that waits; a disk too full for these bytes fails the stage here.
        let info = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since \(ISO8601DateFormatter().string(from: Date()))"
        _ = ftruncate(fd, 0)
        guard info.withCString({ pwrite(fd, $0, strlen($0), 0) }) >= 0 else {
            // Thrown with every property set: deinit unlocks and closes.
            throw PipelineError.io(path: url.path, reason: WriteFailure.describe("cannot note the holder in the stage lock", code: errno, path: url.path, bytes: info.utf8.count))
        }
    }

    /// True if `url` is the file `fd` has open (gc did not unlink it in the meantime).
    static func stillNamed(_ fd: Int32, _ url: URL) -> Bool {
        var opened = stat(), named = stat()
        return fstat(fd, &opened) == 0 && lstat(url.path, &named) == 0 && opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension CacheStore {
    var locksDirectory: URL { root.appendingPathComponent("locks") }

    /// Deletes the lock files of stages no worker is computing: each is locked first (without waiting),
    /// so a held lock is never removed, and then unlinked while locked; a worker that opened it just
    /// before sees the unlink (`StageLock.stillNamed`) and takes a fresh file. Returns how many went.
    public func removeIdleLocks(dryRun: Bool) -> Int {
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: locksDirectory.path)) ?? [] where Digest.isValid(name) {
            let url = locksDirectory.appendingPathComponent(name)
            let fd = open(url.path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0, StageLock.stillNamed(fd, url) else { continue }
            if dryRun || unlink(url.path) == 0 { removed += 1 }
        }
        return removed
    }
}
