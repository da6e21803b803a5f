import Pipeline

extension StageResources {
    /// The resources as `sbatch` options (the extra arguments last, so they can override).
    public var sbatchOptions: [String] {
        var options: [String] = []
        if let cpus { options.append("--cpus-per-task=\(cpus)") }
        if let mem { options.append("--mem=\(mem)") }
        if let time { options.append("--time=\(time)") }
        if let partition { options.append("--partition=\(partition)") }
        return options + sbatchArgs
    }
}
