import Foundation

/// The batch script of one submission, a job array whose task i runs `bnrepro exec <keys[i]>`.
///
/// Every path and key in it is single-quoted (`'` becomes `'\''`), the one bash quoting in which no
/// character is special: a cache directory named `a b $(touch x) "q" 'q'` is data, never syntax. sbatch
/// gets its options as separate arguments, never through `#SBATCH` lines, so they are not parsed either.
///
/// The script writes the worker's exit status to `<key>.status` in the job directory (atomically, by
/// rename). That file, not `squeue` or `sacct`, is how the submitting run learns how a task ended, so it
/// works on clusters without accounting and after finished jobs have left the controller's memory.
public struct SlurmJobScript: Sendable {
    public let worker: URL
    public let cache: URL
    public let directory: URL
    public let keys: [String]
    public let stages: [String]

    public init(worker: URL, cache: URL, directory: URL, keys: [String], stages: [String]) {
        self.worker = worker
        self.cache = cache
        self.directory = directory
        self.keys = keys
        self.stages = stages
    }

    public static func statusFile(key: String, in directory: URL) -> URL {
        directory.appendingPathComponent("\(key).status")
    }

    /// Where the script sends a task's stdout and stderr (the worker's progress lines and anything that
    /// goes wrong outside the stage's own log). The script redirects itself rather than leave it to
    /// `sbatch --output`, because Slurm expands `%` patterns in the whole output path, job directory
    /// included: a cache directory with a `%` in its name would send the output nowhere.
    public static func outputFile(jobID: String, index: Int, in directory: URL) -> URL {
        directory.appendingPathComponent("\(jobID)_\(index).out")
    }

    /// Quotes one word for bash: safe for every byte but NUL, which a path cannot contain.
    public static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    public var text: String {
        let q = SlurmJobScript.quote
        var lines = [
            "#!/bin/bash",
            "# Written by `bnrepro run --executor slurm`: task i of this job array runs stage keys[i].",
            "# The exit status goes to <key>.status in the job directory; the submitting run waits for it.",
            "worker=\(q(worker.path))",
            "cache=\(q(cache.path))",
            "jobdir=\(q(directory.path))",
            "keys=(",
        ]
        for (key, stage) in zip(keys, stages) {
            lines.append("  \(q(key))  # \(stage.filter { $0 != "\n" && $0 != "\r" })")
        }
        lines += [
            ")",
            "task=\"${SLURM_ARRAY_TASK_ID:-0}\"",
            "key=\"${keys[$task]}\"",
            "status=\"$jobdir/$key.status\"",
            "exec >>\"$jobdir/${SLURM_ARRAY_JOB_ID:-manual}_${task}.out\" 2>&1",
            "# scancel and time limits send SIGTERM: outlive it long enough to record the worker's status.",
            "trap 'echo \"bnrepro job: received SIGTERM (scancel or time limit)\" >&2' TERM",
            "echo \"bnrepro job ${SLURM_ARRAY_JOB_ID:-?}_${task}: stage key $key on $(hostname)\"",
            "\"$worker\" exec \"$key\" --cache \"$cache\" --executor slurm </dev/null",
            "rc=$?",
            "echo \"bnrepro job ${SLURM_ARRAY_JOB_ID:-?}_${task}: exit status $rc\"",
            "printf '%s\\n' \"$rc\" >\"$status.tmp.$$\" && mv -f \"$status.tmp.$$\" \"$status\"",
            "exit \"$rc\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `--array=0-(n-1)`, with `%throttle` when it limits anything.
    public static func arraySpec(count: Int, throttle: Int) -> String {
        let range = "0-\(max(0, count - 1))"
        return throttle > 0 && throttle < count ? "\(range)%\(throttle)" : range
    }
}
