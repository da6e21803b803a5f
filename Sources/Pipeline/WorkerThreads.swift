import Foundation

/// How many OpenMP threads a worker computes with. The engine's parallel reductions (oneDNN's
/// weight gradients) split their sums by it, so a result may change in its last bits with it; the
/// action record keeps it and `audit` compares it.
public enum WorkerThreads {
    /// `OMP_NUM_THREADS` as libgomp reads it (the first entry of a list such as "2,1"), else the cores
    /// this process may run on, which is libgomp's default.
    public static func count(environment: [String: String] = ProcessInfo.processInfo.environment,
                             cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        requested(environment: environment) ?? max(1, cores)
    }

    /// The count `OMP_NUM_THREADS` asks for, or nil when it is unset or not a positive number.
    public static func requested(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        guard let first = environment["OMP_NUM_THREADS"]?.split(separator: ",").first,
              let n = Int(first.trimmingCharacters(in: .whitespaces)), n > 0 else { return nil }
        return n
    }
}
