import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM in a worker: from the runner on Ctrl-C, from `scancel`, or from Slurm at a job's time limit
/// (which then waits KillWait seconds before SIGKILL). A stage that can save its progress (training)
/// declares it with `whileCheckpointable`; a SIGTERM then only raises a flag, which the stage polls
/// between steps: it saves a resume point and ends the process by the same signal, so the runner sees
/// exactly what it saw before, and the next run resumes from that step instead of the last evaluation.
/// Any other stage, or a checkpointable one outside its loop, ends at once as always.
public enum GracefulStop {
    nonisolated(unsafe) static var requested: sig_atomic_t = 0
    nonisolated(unsafe) static var checkpointable: sig_atomic_t = 0
    nonisolated(unsafe) static var installed = false

    /// Installed by `bnrepro exec` in place of the default action.
    public static func install() {
        installed = true
        signal(SIGTERM) { sig in
            if GracefulStop.checkpointable != 0 {
                GracefulStop.requested = 1
            } else {
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }

    /// Polled by a checkpointable stage between steps.
    public static var isRequested: Bool {
        polls += 1
        if let n = requestAtPoll, polls >= n { requested = 1; requestAtPoll = nil }
        return requested != 0
    }

    /// Tests stop a stage at an exact step: the n-th poll from now reports a request.
    nonisolated(unsafe) static var requestAtPoll: Int?
    nonisolated(unsafe) static var polls = 0

    /// What a checkpointable stage throws when it stopped (only reached where no handler ends the process).
    public struct Stopped: Error, CustomStringConvertible {
        public let step: Int
        public init(step: Int) { self.step = step }
        public var description: String { "stopped by SIGTERM at step \(step); its progress is saved" }
    }

    /// Runs `body` with SIGTERM deferred to `isRequested`; a request that came in is kept for the caller.
    public static func whileCheckpointable<T>(_ body: () throws -> T) rethrows -> T {
        checkpointable = 1
        var completed = false
        defer {
            checkpointable = 0
            // A SIGTERM that arrived after the last poll must not be lost; but when the work it would have
            // saved is complete, the stage finishes and is recorded instead of thrown away. (A job that was
            // stopped at its time limit just as it finished, and resumed from an older checkpoint, would
            // otherwise finish and be killed again on every requeue.) The request stays set for later polls.
            if requested != 0, installed, !completed { terminate() }
        }
        let result = try body()
        completed = true
        return result
    }

    /// Ends the process by SIGTERM after the stage saved its progress (the runner reports "interrupted").
    /// In a test, where no handler is installed, it clears the request and returns instead.
    public static func terminate() {
        guard installed else { requested = 0; return }
        signal(SIGTERM, SIG_DFL)
        raise(SIGTERM)
    }
}
