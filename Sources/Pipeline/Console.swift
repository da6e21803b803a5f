import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the runner tells the user. On a terminal, finished events scroll by and one live line per
/// running stage (elapsed, the stage's own progress, ETA) stays at the bottom; elsewhere, one plain
/// timestamped line per event, so logs stay quiet and greppable.
public final class Console: @unchecked Sendable {
    public enum Style { case live, plain, silent }

    private let style: Style
    private let lock = NSLock()
    private var running: [(stage: String, started: Date, progress: StageProgress?)] = []
    private var drawnLines = 0
    private var timer: DispatchSourceTimer?
    private let output: FileHandle

    public init(style: Style? = nil, output: FileHandle = .standardError) {
        self.output = output
        self.style = style ?? (isatty(output.fileDescriptor) != 0 ? .live : .plain)
        if self.style == .live {
            let t = DispatchSource.makeTimerSource(queue: .global())
            t.schedule(deadline: .now() + 1, repeating: 1)
            t.setEventHandler { [weak self] in self?.redraw(event: nil) }
            t.resume()
            timer = t
        }
    }

    deinit { timer?.cancel() }

    public func started(_ stage: String) {
        lock.lock(); running.append((stage, Date(), nil)); lock.unlock()
        emit("▶ \(stage)", plain: "start \(stage)")
    }

    public func progress(_ stage: String, _ p: StageProgress) {
        lock.lock()
        if let i = running.firstIndex(where: { $0.stage == stage }) { running[i].progress = p }
        lock.unlock()
        if style == .plain { line("\(stage): \(p.message)\(eta(stage).map { " (ETA \($0))" } ?? "")") }
        else { redraw(event: nil) }
    }

    public func finished(_ stage: String, seconds: Double) {
        remove(stage)
        emit("✔ \(stage) (\(Console.duration(seconds)))", plain: "done \(stage) in \(Console.duration(seconds))")
    }

    public func cached(_ stage: String) { emit("· \(stage) (cached)", plain: "cached \(stage)") }

    public func failed(_ stage: String, reason: String, logTail: String) {
        remove(stage)
        var text = "✘ \(stage) failed: \(reason)"
        if !logTail.isEmpty { text += "\n" + logTail.split(separator: "\n").map { "    │ \($0)" }.joined(separator: "\n") }
        emit(text, plain: text.replacingOccurrences(of: "✘ ", with: "FAILED "))
    }

    /// Stopped by a signal: not a failure of the stage, and nothing of it was kept.
    public func interrupted(_ stage: String, signal: String) {
        remove(stage)
        emit("■ \(stage) interrupted (\(signal))", plain: "interrupted \(stage) (\(signal))")
    }

    public func note(_ text: String) { emit(text, plain: text) }

    private func remove(_ stage: String) {
        lock.lock(); running.removeAll { $0.stage == stage }; lock.unlock()
    }

    private func emit(_ live: String, plain: String) {
        switch style {
        case .silent: return
        case .plain: line(plain)
        case .live: redraw(event: live)
        }
    }

    private func line(_ text: String) {
        let stamp = Console.clock.string(from: Date())
        lock.lock(); output.write(Data("[\(stamp)] \(text)\n".utf8)); lock.unlock()
    }

    private func redraw(event: String?) {
        guard style == .live else { return }
        lock.lock()
        defer { lock.unlock() }
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : ""
        if let event { text += event + "\n" }
        let width = Int(Console.terminalWidth())
        for entry in running {
            let elapsed = Console.duration(Date().timeIntervalSince(entry.started))
            var status = "  ⋯ \(entry.stage) \(elapsed)"
            if let p = entry.progress { status += "  \(p.message)" }
            if let eta = etaLocked(entry) { status += "  ETA \(eta)" }
            text += String(status.prefix(max(20, width - 1))) + "\n"
        }
        drawnLines = running.count
        output.write(Data(text.utf8))
    }

    private func eta(_ stage: String) -> String? {
        lock.lock(); defer { lock.unlock() }
        return running.first { $0.stage == stage }.flatMap(etaLocked)
    }

    private func etaLocked(_ entry: (stage: String, started: Date, progress: StageProgress?)) -> String? {
        guard let f = entry.progress?.fraction, f > 0.001, f <= 1 else { return nil }
        let elapsed = Date().timeIntervalSince(entry.started)
        return Console.duration(elapsed * (1 - f) / f)
    }

    public static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        return s < 3600 ? String(format: "%dm%02ds", s / 60, s % 60) : String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    static func terminalWidth() -> UInt16 {
        var size = winsize()
        return ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? size.ws_col : 100
    }

    static let clock: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        return f
    }()
}
