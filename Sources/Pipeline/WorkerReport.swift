import Foundation

/// What a worker (`bnrepro exec`) tells its runner on stderr besides its log: why the stage failed, and
/// what it could not keep (the failure record, the log). The runner reads the worker's stderr already;
/// these lines make the cause reach it even when the disk is too full for a record, and let it say
/// which of the two was lost. One line each, marked, so the runner can tell them from other output.
public struct WorkerReport: Equatable, Sendable {
    /// Why the stage failed, as the failure record would have said.
    public var failure: String?
    /// Why the failure record could not be written, if it could not.
    public var recordProblem: String?
    /// Why the log could not be stored, if it could not.
    public var logProblem: String?
    /// The log's last lines, sent when the log itself could not be stored.
    public var logTail: [String] = []
    /// Every other line, in order (notes, errors of a worker that failed before it could run).
    public var otherLines: [String] = []

    public init() {}

    static let prefix = "bnrepro exec: "
    private static let failureMarker = prefix + "failed: "
    private static let recordMarker = prefix + "no failure record: "
    private static let logMarker = prefix + "no log: "
    private static let tailMarker = prefix + "log │ "

    // MARK: the worker's side

    /// A line on stderr, ignoring a failure to write it (stderr is the last place left to say anything).
    public static func say(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((prefix + text + "\n").utf8))
    }

    static func sayFailed(_ error: String) { say("failed: " + oneLine(error)) }
    static func sayNoRecord(_ why: String) { say("no failure record: " + oneLine(why)) }
    static func sayNoLog(_ why: String) { say("no log: " + oneLine(why)) }
    static func sayLogTail(_ tail: String) {
        for line in tail.split(separator: "\n", omittingEmptySubsequences: false) { say("log │ " + line) }
    }

    /// Multi-line errors travel as one line; `parse` restores them.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func restore(_ text: Substring) -> String {
        var out = "", escaped = false
        for ch in text {
            if escaped { out.append(ch == "n" ? "\n" : ch); escaped = false } else if ch == "\\" { escaped = true } else { out.append(ch) }
        }
        return out
    }

    // MARK: the runner's side

    public static func parse(_ stderr: String) -> WorkerReport {
        var report = WorkerReport()
        for line in stderr.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix(failureMarker) { report.failure = restore(line.dropFirst(failureMarker.count)) }
            else if line.hasPrefix(recordMarker) { report.recordProblem = restore(line.dropFirst(recordMarker.count)) }
            else if line.hasPrefix(logMarker) { report.logProblem = restore(line.dropFirst(logMarker.count)) }
            else if line.hasPrefix(tailMarker) { report.logTail.append(String(line.dropFirst(tailMarker.count))) }
            else { report.otherLines.append(String(line)) }
        }
        return report
    }
}
