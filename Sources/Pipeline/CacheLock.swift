import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One run at a time per cache. The lock is an flock on `<cache>/lock`, so the kernel releases it when
/// its holder dies: a lock left by a killed run is simply taken over. The holder writes who it is
/// into `<cache>/lock.info` so that a waiting run can say for whom it waits.
public final class CacheLock {
    private let fd: Int32
    private let infoURL: URL
    /// False until the lock is ours: a refused attempt must not touch the holder's lock.info.
    private var held = false

    public enum Wait { case wait, fail }

    /// - Parameter onWait: told once, with the holder's description, before blocking.
    public init(cache: CacheStore, wait: Wait, command: String, onWait: (String) -> Void) throws {
        let url = cache.root.appendingPathComponent("lock")
        infoURL = cache.root.appendingPathComponent("lock.info")
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FileIO.ioError(url, "cannot open lock file") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = CacheLock.holderDescription(infoURL)
            if wait == .fail {
                close(fd)
                throw PipelineError.lockBusy(holder: holder)
            }
            onWait(holder)
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR { close(fd); throw FileIO.ioError(url, "cannot lock") }
            }
        }
        held = true
        let info = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), started \(ISO8601DateFormatter().string(from: Date())): \(command)"
        // Who holds the cache, for a run that waits; a disk too full for this fails the run here, by name.
        try FileIO.atomicWrite(Data(info.utf8), to: infoURL)
    }

    static func holderDescription(_ url: URL) -> String {
        (try? String(contentsOf: url, encoding: .utf8)).map { "another run (\($0))" } ?? "another run"
    }

    deinit {
        guard held else { return }
        unlink(infoURL.path)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
