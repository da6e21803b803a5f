import Dispatch

/// Runs `body` on `parts` contiguous chunks of 0..<count in parallel (structured: returns when all
/// chunks are done). Small counts run inline: thread hand-off costs more than it saves.
public func parallelChunks(_ count: Int, parts: Int = 2, minimumPerPart: Int = 1 << 15,
                           _ body: (Range<Int>) -> Void) {
    let p = Swift.max(1, Swift.min(parts, count / Swift.max(minimumPerPart, 1)))
    if p <= 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: p) { i in
        let lo = count * i / p, hi = count * (i + 1) / p
        body(lo..<hi)
    }
}
