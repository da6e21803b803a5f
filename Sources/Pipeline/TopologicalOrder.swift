import Foundation

enum TopologicalOrder {
    /// Kahn's algorithm, taking the earliest-declared ready stage first; on a cycle, names one.
    static func sort(_ stages: [ResolvedStage]) throws -> [ResolvedStage] {
        let position = Dictionary(uniqueKeysWithValues: stages.enumerated().map { ($1.name, $0) })
        let remaining = stages.map { Set($0.deps) }
        var done = [Bool](repeating: false, count: stages.count)
        var order: [ResolvedStage] = []
        var finished = Set<String>()
        while order.count < stages.count {
            guard let next = stages.indices.first(where: { !done[$0] && remaining[$0].isSubset(of: finished) }) else {
                throw PipelineError.cycle(findCycle(stages, position: position, done: done))
            }
            done[next] = true
            finished.insert(stages[next].name)
            order.append(stages[next])
        }
        return order
    }

    private static func findCycle(_ stages: [ResolvedStage], position: [String: Int], done: [Bool]) -> [String] {
        // Walk from an unfinished stage along unfinished deps until a stage repeats.
        guard var current = stages.indices.first(where: { !done[$0] }) else { return [] }
        var path: [Int] = []
        var seenAt: [Int: Int] = [:]
        while seenAt[current] == nil {
            seenAt[current] = path.count
            path.append(current)
            guard let next = stages[current].deps.compactMap({ position[$0] }).first(where: { !done[$0] }) else { break }
            current = next
        }
        let start = seenAt[current] ?? 0
        return path[start...].map { stages[$0].name }.reversed()
    }
}
