import CDNNL

/// Runs `body` on contiguous chunks of 0..<count, one chunk per thread of the OpenMP team that oneDNN
/// uses (OMP_NUM_THREADS; a second thread pool would compete with oneDNN's spinning workers on a
/// 2-core machine). Chunk boundaries depend only on `count` and the thread count, so results that
/// combine per-chunk partials in chunk order are reproducible for a given thread count.
/// Small counts run inline: a fork costs more than it saves.
public func parallelChunks(_ count: Int, minimumPerPart: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let threads = Int(omp_get_max_threads())
    let parts = Swift.max(1, Swift.min(threads, count / Swift.max(minimumPerPart, 1)))
    if parts <= 1 { body(0..<count); return }
    withoutActuallyEscaping(body) { escapable in
        var job = ChunkJob(count: count, parts: parts, body: escapable)
        withUnsafeMutablePointer(to: &job) { jp in
            GOMP_parallel({ raw in
                guard let j = raw?.assumingMemoryBound(to: ChunkJob.self).pointee else { return }
                let t = Int(omp_get_thread_num()), n = Int(omp_get_num_threads())
                // The team may be smaller than asked; each thread takes every n-th part.
                var part = t
                while part < j.parts {
                    j.body((j.count * part / j.parts)..<(j.count * (part + 1) / j.parts))
                    part += n
                }
            }, jp, UInt32(parts), 0)
        }
    }
}

/// Number of threads `parallelChunks` may use.
public var parallelThreadCount: Int { Int(omp_get_max_threads()) }

private struct ChunkJob {
    let count: Int
    let parts: Int
    let body: (Range<Int>) -> Void
}
