import Foundation
import Pipeline

/// The batch script of one submission, a job array whose task i runs one stage: `bnrepro exec <key>`
/// when the submitting run knows the key (it waits for the job), or `bnrepro exec --campaign … --stage
/// <name>` in a detached campaign, where the job resolves its key itself when it starts.
///
/// Every path, key and name in it is single-quoted (`'` becomes `'\''`), the one bash quoting in which no
/// character is special: a cache directory named `a b $(touch x) "q" 'q'` is data, never syntax. sbatch
/// gets its options as separate arguments, never through `#SBATCH` lines, so they are not parsed either.
///
/// The script writes the worker's exit status to a status file in the job directory (atomically, by
/// rename). That file, not `squeue` or `sacct`, is how a run or `status` learns how a task ended, so it
/// works on clusters without accounting and after finished jobs have left the controller's memory.
///
/// Time limits: the script reads the time its job has left when it starts; `grace` seconds before the
/// end it sends the worker SIGTERM, under which a checkpointable stage (training) saves its progress,
/// and then requeues its own task (`scontrol requeue`, which keeps the job id, so stages that wait for
/// it with `--dependency=afterok` still do). The requeued task resumes from the checkpoint. No status
/// file is written for a task that requeued itself. After `maxRequeues` it fails like any other job.
/// A task that Slurm requeues (preemption, `scontrol requeue`) writes none either: it runs again.
/// The job times itself rather than use `sbatch --signal`, which Slurm may deliver up to a minute early.
public struct SlurmJobScript: Sendable {
    public enum Mode: Sendable, Equatable {
        /// `ids` are stage keys; the status file is `<key>.status`.
        case keys
        /// `ids` are stage names of the campaign whose snapshot is at this path; the status file is `<task>.status`.
        case campaign(URL)
    }

    public struct TimeLimit: Sendable, Equatable {
        /// Seconds before the job's end at which the worker is stopped to save its progress.
        public var graceSeconds: Int
        /// Times a task may requeue itself; 0 turns it off.
        public var maxRequeues: Int
        public init(graceSeconds: Int = 300, maxRequeues: Int = 5) {
            self.graceSeconds = graceSeconds
            self.maxRequeues = maxRequeues
        }
    }

    public let worker: URL
    public let cache: URL
    public let directory: URL
    public let ids: [String]
    public let stages: [String]
    public let mode: Mode
    public let timeLimit: TimeLimit

    public init(worker: URL, cache: URL, directory: URL, keys: [String], stages: [String], timeLimit: TimeLimit = TimeLimit()) {
        self.init(worker: worker, cache: cache, directory: directory, ids: keys, stages: stages, mode: .keys, timeLimit: timeLimit)
    }

    public init(worker: URL, cache: URL, directory: URL, ids: [String], stages: [String], mode: Mode, timeLimit: TimeLimit) {
        self.worker = worker
        self.cache = cache
        self.directory = directory
        self.ids = ids
        self.stages = stages
        self.mode = mode
        self.timeLimit = timeLimit
    }

    public static func statusFile(key: String, in directory: URL) -> URL {
        directory.appendingPathComponent("\(key).status")
    }

    /// A campaign task's status file: its array index, since the key is not known at submission.
    public static func statusFile(task: Int, in directory: URL) -> URL {
        directory.appendingPathComponent("\(task).status")
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
            "# Written by `bnrepro run --executor slurm`: task i of this job array runs stage ids[i].",
            "# The exit status goes to a status file in the job directory, which the run and `status` read.",
            "worker=\(q(worker.path))",
            "cache=\(q(cache.path))",
            "jobdir=\(q(directory.path))",
        ]
        if case .campaign(let snapshot) = mode { lines.append("campaign=\(q(snapshot.path))") }
        lines += [
            "grace=\(timeLimit.graceSeconds)",
            "max_requeues=\(timeLimit.maxRequeues)",
            "ids=(",
        ]
        for (id, stage) in zip(ids, stages) {
            lines.append("  \(q(id))  # \(stage.filter { $0 != "\n" && $0 != "\r" })")
        }
        let command: String, status: String
        switch mode {
        case .keys:
            command = "\"$worker\" exec \"$id\" --cache \"$cache\" --executor slurm </dev/null &"
            status = "status=\"$jobdir/$id.status\""
        case .campaign:
            command = "\"$worker\" exec --campaign \"$campaign\" --stage \"$id\" --cache \"$cache\" --executor slurm </dev/null &"
            status = "status=\"$jobdir/$task.status\""
        }
        lines += [
            ")",
            "task=\"${SLURM_ARRAY_TASK_ID:-0}\"",
            "id=\"${ids[$task]}\"",
            status,
            "name=\"${SLURM_ARRAY_JOB_ID:-manual}_${task}\"",
            "restarts=\"${SLURM_RESTART_COUNT:-0}\"",
            "exec >>\"$jobdir/$name.out\" 2>&1",
            "echo \"bnrepro job $name: stage $id on $(hostname), run $((restarts + 1))\"",
            "# Seconds the job has left (squeue %L: M:SS, H:MM:SS or D-HH:MM:SS), or nothing if unlimited or unknown.",
            "seconds_left() {",
            "  local left d=0 h=0 m=0 s=0",
            "  left=\"$(squeue -h -j \"${SLURM_JOB_ID:-none}\" -o %L 2>/dev/null | head -n 1)\"",
            "  case \"$left\" in *-*) d=\"${left%%-*}\"; left=\"${left#*-}\" ;; esac",
            "  IFS=: read -r -a parts <<<\"$left\"",
            "  case \"${#parts[@]}\" in",
            "    2) m=\"${parts[0]}\"; s=\"${parts[1]}\" ;;",
            "    3) h=\"${parts[0]}\"; m=\"${parts[1]}\"; s=\"${parts[2]}\" ;;",
            "    *) return ;;",
            "  esac",
            "  [[ \"$d$h$m$s\" =~ ^[0-9]+$ ]] && echo $(( ((10#$d * 24 + 10#$h) * 60 + 10#$m) * 60 + 10#$s ))",
            "}",
            command,
            "pid=$!",
            "# scancel, Slurm's time limit and a requeue send SIGTERM to every process of the job: the worker acts on it, and",
            "# this script ignores it, to record the worker's status. No trap: a trap interrupting `wait` can lose the status.",
            "trap '' TERM",
            "timeup=\"$jobdir/$name.run$((restarts + 1)).timeup\"",
            "left=\"$(seconds_left)\"",
            "timer=",
            "if [ \"$max_requeues\" -gt 0 ] && [ -n \"$left\" ] && [ \"$left\" -gt \"$grace\" ]; then",
            "  # Polls once a second, so it ends by itself within a second of the worker.",
            "  ( until=$((SECONDS + left - grace)); while [ \"$SECONDS\" -lt \"$until\" ] && kill -0 \"$pid\" 2>/dev/null; do sleep 1; done",
            "    if kill -0 \"$pid\" 2>/dev/null; then",
            "      : >\"$timeup\"",
            "      echo \"bnrepro job $name: $grace s before the time limit: stopping the stage to save its progress\"",
            "      kill -TERM \"$pid\"",
            "    fi ) &",
            "  timer=$!",
            "fi",
            "wait \"$pid\"; rc=$?",
            "[ -n \"$timer\" ] && wait \"$timer\"",
            "[ \"$rc\" = 143 ] && echo \"bnrepro job $name: the stage ended by SIGTERM (scancel, time limit or requeue)\"",
            "if [ -e \"$timeup\" ] && [ \"$rc\" != 0 ]; then",
            "  if [ \"$restarts\" -lt \"$max_requeues\" ]; then",
            "    echo \"bnrepro job $name: requeueing itself to resume (requeue $((restarts + 1)) of at most $max_requeues)\"",
            "    if scontrol requeue \"${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}_${task}\"; then",
            "      # Slurm now ends this run (SIGKILL after KillWait) and queues the task again; nothing may write a status meanwhile.",
            "      for _ in $(seq 600); do sleep 1; done",
            "      exit 0",
            "    fi",
            "    echo \"bnrepro job $name: scontrol requeue failed; the stage fails with the time limit\"",
            "  else",
            "    echo \"bnrepro job $name: time limit again after $restarts requeues (--max-resubmits $max_requeues); giving up\"",
            "  fi",
            "fi",
            "# Preemption (PreemptMode=REQUEUE), a node failure or an admin's `scontrol requeue` also send SIGTERM; then",
            "# Slurm has already counted one more restart, and the task runs again: it must not be recorded as failed.",
            "if [ ! -e \"$timeup\" ] && [ \"$rc\" != 0 ]; then",
            "  now=\"$(scontrol show job \"${SLURM_JOB_ID:-none}\" 2>/dev/null | grep -o 'Restarts=[0-9]*' | head -n 1 | cut -d= -f2)\"",
            "  if [ -n \"$now\" ] && [ \"$now\" -gt \"$restarts\" ]; then",
            "    echo \"bnrepro job $name: Slurm is requeueing the job (preemption or scontrol requeue); the stage resumes from its saved progress\"",
            "    exit \"$rc\"",
            "  fi",
            "fi",
            "echo \"bnrepro job $name: exit status $rc\"",
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
