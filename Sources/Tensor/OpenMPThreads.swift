import CDNNL

/// Runs `body` with `count` OpenMP threads (oneDNN's and the engine's loops), then restores the previous
/// count: a measurement that must see what one stage of a `-j` = cores run sees.
public func withOpenMPThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    let previous = omp_get_max_threads()
    omp_set_num_threads(Int32(count))
    defer { omp_set_num_threads(previous) }
    return try body()
}
