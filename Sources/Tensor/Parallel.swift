import CDNNL
import Foundation

/// Runs `body` over 0..<count split into contiguous pieces, on the OpenMP team that oneDNN uses
/// (OMP_NUM_THREADS; a second thread pool would compete with oneDNN's spinning workers on a 2-core
/// machine). Threads take pieces as they come free, so a thread the OS has descheduled (the machine
/// is shared) does not hold up the others for half the loop. Piece boundaries depend only on
/// `count` and `minimumPerPart`, never on which thread runs them.
/// Small counts run inline: a fork costs more than it saves.
public func parallelChunks(_ count: Int, minimumPerPart: Int = 1 << 15, threads requested: Int? = nil,
                           _ body: (Range<Int>) -> Void) {
    let threads = Swift.min(requested ?? Int(omp_get_max_threads()), Int(omp_get_max_threads()))
    let pieces = Swift.max(1, Swift.min(4 * threads, count / Swift.max(minimumPerPart, 1)))
    if threads <= 1 || pieces <= 1 { body(0..<count); return }
    withoutActuallyEscaping(body) { escapable in
        var job = ChunkJob(count: count, pieces: pieces, next: 0, body: escapable)
        withUnsafeMutablePointer(to: &job) { jp in
            GOMP_parallel({ raw in
                guard let j = raw?.assumingMemoryBound(to: ChunkJob.self) else { return }
                while true {
                    GOMP_atomic_start()
                    let piece = j.pointee.next
                    j.pointee.next += 1
                    GOMP_atomic_end()
                    if piece >= j.pointee.pieces { break }
                    let n = j.pointee.count, p = j.pointee.pieces
                    j.pointee.body((n * piece / p)..<(n * (piece + 1) / p))
                }
            }, jp, UInt32(Swift.min(threads, pieces)), 0)
        }
    }
}

/// Number of threads `parallelChunks` may use.
public var parallelThreadCount: Int { Int(omp_get_max_threads()) }

/// How many threads memory-bound loops should use now. A fork-join over a team whose threads the OS
/// has descheduled waits a scheduler quantum per fork; on a machine loaded beyond its cores (shared
/// with other jobs) one thread measured 2–16× faster for these loops, on an idle one two threads win.
/// BNREPRO_LOOP_THREADS overrides the choice.
public func memoryBoundLoopThreads() -> Int {
    if let v = getenv("BNREPRO_LOOP_THREADS").flatMap({ Int(String(cString: $0)) }), v > 0 { return v }
    var load = [Double](repeating: 0, count: 1)
    guard getloadavg(&load, 1) == 1 else { return parallelThreadCount }
    return load[0] > Double(ProcessInfo.processInfo.activeProcessorCount) + 0.5 ? 1 : parallelThreadCount
}

private struct ChunkJob {
    let count: Int
    let pieces: Int
    var next: Int
    let body: (Range<Int>) -> Void
}
