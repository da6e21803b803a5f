import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A worker process started with posix_spawn and reaped with wait4, which (unlike Foundation's
/// Process) gives the child's own resource usage: a worker killed by a signal is reported with its
/// peak memory, since SIGKILL is usually the kernel's out-of-memory killer. The child leads a process
/// group of its own, so that a terminal's Ctrl-C reaches only the runner (see `WorkerProcesses`).
final class SpawnedWorker {
    let pid: pid_t
    /// The read ends of the child's stdout and stderr.
    let output: FileHandle
    let errors: FileHandle

    enum Termination: Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    struct Ending {
        let termination: Termination
        /// The child's peak resident set (wait4's ru_maxrss), nil if the kernel reported none.
        let peakMemoryBytes: Int64?
    }

    init(executable: URL, arguments: [String], environment: [String: String]) throws {
        // Close-on-exec set right after pipe() (Glibc does not export pipe2): `WorkerProcesses.start`
        // spawns one worker at a time, so no other worker inherits these ends in between.
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw SpawnedWorker.failure("cannot create a pipe", executable) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SpawnedWorker.failure("cannot create a pipe", executable)
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], STDERR_FILENO)
        SpawnedWorker.closeInheritedDescriptors(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group; no signal blocked, and the signals the runner handles back to default.
        // SIGPIPE stays ignored, as the runner has it: a worker whose runner was killed must not die of
        // writing its progress to the dead runner's pipe.
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable.path, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard status == 0 else {
            close(outPipe[0]); close(errPipe[0])
            errno = status
            throw SpawnedWorker.failure("cannot start", executable)
        }
        pid = child
        output = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true)
        errors = FileHandle(fileDescriptor: errPipe[0], closeOnDealloc: true)
    }

    /// The child gets stdin, stdout and stderr and nothing else. Descriptors the runner inherited without
    /// close-on-exec (the socket through which Foundation's Process in a test or a shell watches the
    /// runner) would otherwise outlive the runner in an orphaned worker, and whoever waits for the
    /// runner's end would wait for the worker's. glibc (2.34+) closes them in the child if asked; its
    /// Swift module does not export the call, so it is looked up. Without it, every descriptor above
    /// stderr is marked close-on-exec in the runner, which never passes descriptors to its children.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"),
           unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) == 0 { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > STDERR_FILENO { _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC) }
        }
    }

    /// Blocks until the child has exited and reaps it.
    func wait() -> Ending {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { return Ending(termination: .exited(-1), peakMemoryBytes: nil) }
        }
        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let termination: Termination = signaled ? .signaled(status & 0x7f) : .exited((status >> 8) & 0xff)
        return Ending(termination: termination, peakMemoryBytes: StageExecution.peakBytes(maxRSS: usage.ru_maxrss))
    }

    private static func failure(_ what: String, _ executable: URL) -> PipelineError {
        PipelineError.io(path: executable.path, reason: FileIO.errnoText(what))
    }
}
