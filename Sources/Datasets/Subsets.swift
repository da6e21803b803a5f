/// Seeded, class-stratified subsets. Never a prefix: the order of a file says nothing about its classes
/// or difficulty (the local test split is even in a different order from the official one).
public enum Subsets {
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case notEnough(label: Int, available: Int, wanted: Int)
        case badFraction(Double)

        public var description: String {
            switch self {
            case .notEnough(let l, let a, let w):
                return "class \(l) has \(a) images but the subset asks for \(w) per class; ask for at most \(a)"
            case .badFraction(let f): return "subset fraction \(f) must be in (0, 1]"
            }
        }
    }

    /// `perClass` indices of each of the classes 0..<classes, drawn uniformly without replacement with
    /// `seed`, returned in ascending order (so that a subset reads the data in file order).
    public static func stratified(labels: [UInt8], perClass: Int, classes: Int = 10, seed: UInt64) throws -> [Int] {
        try draw(labels: labels, perClass: perClass, excluding: [], classes: classes, seed: seed, stream: 0x5B5E7)
    }

    /// `perClass` indices of each class drawn, as `stratified` does, from the images not in `excluded`:
    /// a validation split held out of what a run trained on.
    public static func stratified(labels: [UInt8], perClass: Int, excluding excluded: Set<Int>, classes: Int = 10,
                                  seed: UInt64) throws -> [Int] {
        try draw(labels: labels, perClass: perClass, excluding: excluded, classes: classes, seed: seed, stream: 0x7A11D)
    }

    private static func draw(labels: [UInt8], perClass: Int, excluding excluded: Set<Int>, classes: Int, seed: UInt64,
                             stream: UInt64) throws -> [Int] {
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, l) in labels.enumerated() where Int(l) < classes && !excluded.contains(i) { byClass[Int(l)].append(i) }
        var chosen: [Int] = []
        chosen.reserveCapacity(perClass * classes)
        for (label, members) in byClass.enumerated() {
            guard members.count >= perClass else {
                throw Error.notEnough(label: label, available: members.count, wanted: perClass)
            }
            var pool = members
            var rng = SeededRNG(seed: seed, stream, UInt64(label))
            rng.shuffle(&pool)
            chosen += pool.prefix(perClass)
        }
        return chosen.sorted()
    }

    /// The same fraction of every class (rounded down, at least one image per class).
    public static func stratified(labels: [UInt8], fraction: Double, classes: Int = 10, seed: UInt64) throws -> [Int] {
        guard fraction > 0, fraction <= 1 else { throw Error.badFraction(fraction) }
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, l) in labels.enumerated() where Int(l) < classes { byClass[Int(l)].append(i) }
        var chosen: [Int] = []
        for (label, members) in byClass.enumerated() {
            var pool = members
            var rng = SeededRNG(seed: seed, 0x5B5E7, UInt64(label))
            rng.shuffle(&pool)
            chosen += pool.prefix(max(1, Int(Double(members.count) * fraction)))
        }
        return chosen.sorted()
    }
}
