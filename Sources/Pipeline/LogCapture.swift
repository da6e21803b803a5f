import AtomicIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Points this process's stdout and stderr at a log file (so C libraries' output is captured too),
/// keeping the original stdout for progress lines. A log that could not be opened or lost lines is a
/// failure of the stage (`finish` says why): on a full disk the log is the first file to fill.
final class LogCapture {
    let progressHandle: FileHandle
    private let url: URL
    private let savedOut: Int32
    private let savedErr: Int32
    private var openError: String?

    init(_ url: URL) {
        self.url = url
        fflush(stdout)
        savedOut = dup(STDOUT_FILENO)
        savedErr = dup(STDERR_FILENO)
        progressHandle = FileHandle(fileDescriptor: dup(STDOUT_FILENO), closeOnDealloc: true)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if fd >= 0 {
            dup2(fd, STDOUT_FILENO)
            dup2(fd, STDERR_FILENO)
            close(fd)
        } else {
            openError = "\(url.path): " + WriteFailure.describe("cannot create the stage's log", code: errno, path: url.path)
        }
        setvbuf(stdout, nil, _IOLBF, 0)
        clearerr(stdout)
    }

    /// Restores stdout and stderr; returns why the log is incomplete, or nil. stdio keeps no errno for
    /// a failed buffered write, so a last line is written directly: on a disk that is still full it
    /// fails too and says why.
    func finish() -> String? {
        let flushed = fflush(stdout) == 0 && fflush(stderr) == 0
        var problem = openError
        if problem == nil && (!flushed || ferror(stdout) != 0 || ferror(stderr) != 0) {
            let note = "[bnrepro: lines of this log were lost: a write to it failed]\n"
            let probe = note.withCString { Glibc.write(STDOUT_FILENO, $0, strlen($0)) }
            problem = "\(url.path): the stage's log is incomplete: "
                + (probe < 0 ? WriteFailure.describe("a write to it failed", code: errno, path: url.path, bytes: note.utf8.count)
                             : "a write to it failed (the file system took the next one)")
        }
        dup2(savedOut, STDOUT_FILENO)
        dup2(savedErr, STDERR_FILENO)
        close(savedOut)
        close(savedErr)
        return problem
    }
}
