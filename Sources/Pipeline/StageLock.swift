import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One worker per stage key at a time: an flock on `<cache>/locks/<key>`, held while `bnrepro exec`
/// runs the stage. The cache lock keeps two runners apart, but not a worker that outlived its runner
/// (killed with SIGKILL) or a cluster job still running after its submitter was stopped; this lock
/// does, whoever started the workers. The kernel releases it when its holder dies. The holder writes
/// who it is into the file, so that a waiting worker can say for whom it waits.
final class StageLock {
    private let fd: Int32

    /// Blocks until the stage is ours; `onWait` is told the holder once, before blocking.
    init(store: CacheStore, key: String, onWait: (String) -> Void) throws {
        let directory = store.root.appendingPathComponent("locks")
        try FileIO.createDirectory(directory)
        let url = directory.appendingPathComponent(key)
        fd = open(url.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FileIO.ioError(url, "cannot open the stage lock") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else { close(fd); throw FileIO.ioError(url, "cannot lock") }
            let holder = (try? String(contentsOf: url, encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 } ?? "another worker"
            onWait(holder)
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR { close(fd); throw FileIO.ioError(url, "cannot lock") }
            }
        }
        let info = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since \(ISO8601DateFormatter().string(from: Date()))"
        _ = ftruncate(fd, 0)
        _ = info.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
