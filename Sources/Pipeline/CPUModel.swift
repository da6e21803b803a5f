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

    static func parse(cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return name.isEmpty ? nil : name
        }
        return nil
    }
}
