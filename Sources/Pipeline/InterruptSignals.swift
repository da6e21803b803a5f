import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP as events on a queue of their own, so that a handler runs even while every
/// other thread waits on a stage. A signal the process was started ignoring stays ignored: under `nohup`,
/// a lost login session must not stop a long run.
public final class InterruptSignals: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]

    /// Installs `handler` for each of the three signals; keep the returned value alive while it should run.
    public init(label: String, _ handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: label)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let previous = signal(sig, SIG_IGN)
            if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { handler(sig) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    public static func name(_ sig: Int32) -> String {
        let names: [Int32: String] = [
            SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGTRAP: "SIGTRAP",
            SIGPIPE: "SIGPIPE", SIGQUIT: "SIGQUIT", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
        ]
        return names[sig] ?? "signal \(sig)"
    }
}
