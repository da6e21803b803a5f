import Foundation

/// What a stage asks of a cluster: the `resources` object of its pipeline.json entry (after profile and
/// `--set` overrides), then the command line, which wins. Not part of the stage key: where and with how
/// much memory a stage runs does not change what it computes, so caches stay interchangeable.
///
///     "resources": { "cpus": 2, "mem": "4G", "time": "2:00:00", "partition": "cpu",
///                    "sbatchArgs": ["--qos=normal"] }
public struct StageResources: Sendable, Equatable {
    public var cpus: Int?
    /// As `sbatch --mem` takes it: megabytes, or a number with K, M, G or T.
    public var mem: String?
    /// As `sbatch --time` takes it: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.
    public var time: String?
    public var partition: String?
    /// Passed to sbatch as they are, after the options above.
    public var sbatchArgs: [String] = []

    public init(cpus: Int? = nil, mem: String? = nil, time: String? = nil, partition: String? = nil, sbatchArgs: [String] = []) {
        self.cpus = cpus
        self.mem = mem
        self.time = time
        self.partition = partition
        self.sbatchArgs = sbatchArgs
    }

    static let fields = ["cpus", "mem", "time", "partition", "sbatchArgs"]

    /// Checks a `resources` object; errors name the file, stage and field.
    public static func parse(_ value: JSONValue, stage: String, file: String) throws -> StageResources {
        func bad(_ field: String?, _ problem: String) -> PipelineError {
            .invalidField(file: file, location: "stage '\(stage)', field 'resources\(field.map { ".\($0)" } ?? "")'", problem: problem)
        }
        guard case .object(let object) = value else { throw bad(nil, "expected an object, got \(value.typeName)") }
        for key in object.keys where !fields.contains(key) {
            throw bad(key, "unknown field" + PipelineDocument.suggestion(key, fields))
        }
        var r = StageResources()
        switch object["cpus"] {
        case nil: break
        case .number(let n)? where n >= 1 && n == n.rounded() && n < 100_000: r.cpus = Int(n)
        case let v?: throw bad("cpus", "expected a whole number of CPUs (1 or more), got \(v.canonicalText)")
        }
        if let v = object["mem"] {
            guard let text = sizeOrText(v), isMemory(text) else {
                throw bad("mem", "expected megabytes or a size like \"4G\", got \(v.canonicalText)")
            }
            r.mem = text
        }
        if let v = object["time"] {
            guard let text = sizeOrText(v), isTime(text) else {
                throw bad("time", "expected minutes, MM:SS, HH:MM:SS or D-HH:MM:SS, got \(v.canonicalText)")
            }
            r.time = text
        }
        switch object["partition"] {
        case nil: break
        case .string(let s)? where !s.isEmpty: r.partition = s
        case let v?: throw bad("partition", "expected a partition name, got \(v.canonicalText)")
        }
        if let v = object["sbatchArgs"] {
            guard let items = v.arrayValue?.compactMap(\.stringValue), items.count == v.arrayValue?.count else {
                throw bad("sbatchArgs", "expected an array of strings, e.g. [\"--qos=high\"]")
            }
            if let odd = items.first(where: { !$0.hasPrefix("-") }) {
                throw bad("sbatchArgs", "'\(odd)' is not an sbatch option; write each as one string, e.g. \"--qos=high\"")
            }
            r.sbatchArgs = items
        }
        return r
    }

    /// A whole number is taken as written (megabytes, minutes); a string as it is.
    private static func sizeOrText(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s
        case .number(let n) where n >= 0 && n == n.rounded(): return String(Int(n))
        default: return nil
        }
    }

    public static func isMemory(_ s: String) -> Bool {
        s.range(of: #"^[0-9]+[KMGTkmgt]?$"#, options: .regularExpression) != nil
    }

    public static func isTime(_ s: String) -> Bool {
        ["UNLIMITED", "INFINITE"].contains(s.uppercased())
            || s.range(of: #"^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$"#, options: .regularExpression) != nil
    }

    /// `other`'s values where it has them; its sbatch arguments come after ours, so they win in sbatch.
    public func overridden(by other: StageResources) -> StageResources {
        StageResources(cpus: other.cpus ?? cpus, mem: other.mem ?? mem, time: other.time ?? time,
                       partition: other.partition ?? partition, sbatchArgs: sbatchArgs + other.sbatchArgs)
    }

    /// The resources of every pipeline.json entry (a matrix shares its entry's), keyed by entry name,
    /// as the resolved pipeline has them (profile and `--set` overrides already applied there, once).
    public static func table(of pipeline: ResolvedPipeline) -> [String: StageResources] {
        var table: [String: StageResources] = [:]
        for stage in pipeline.stages { if let r = stage.resources { table[stage.group] = r } }
        return table
    }
}
