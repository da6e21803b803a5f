import Foundation

/// The processor a worker computed on, as `lscpu` names it ("AMD EPYC 9R14 96-Core Processor"). Kept
/// in each action record because float32 kernels take other code paths on other instruction sets
/// (oneDNN dispatches on AVX2 / AVX-512 / AMX), so a result pulled from another lab's cluster may differ
/// in its last bits from one computed here; `audit` says which CPU each side ran on.
public enum CPUModel {
    /// The first `model name` line of /proc/cpuinfo, or nil where there is none (not Linux, or an
    /// architecture that names the CPU otherwise).
    public static let current: String? = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return parse(cpuinfo: text)
    }()

    /// The model name with the family, model number and widest vector extension, e.g. "AMD EPYC family 25
    /// model 1 avx2": virtual machines often report a bare "AMD EPYC" for several generations, whose fastest
    /// kernels differ (the engine plan is kept per identity).
    public static let identity: String? = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return identity(cpuinfo: text)
    }()

    static func identity(cpuinfo: String) -> String? {
        guard let name = parse(cpuinfo: cpuinfo) else { return nil }
        func field(_ key: String) -> String? {
            for line in cpuinfo.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key else { continue }
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let vector = ["avx512f", "avx2", "avx", "sse4_2"].first { flags.contains($0) }
        return ([name] + [field("cpu family").map { "family \($0)" }, field("model").map { "model \($0)" }, vector].compactMap { $0 })
            .joined(separator: " ")
    }

    static func parse(cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return name.isEmpty ? nil : name
        }
        return nil
    }
}
