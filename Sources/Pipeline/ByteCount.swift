import Foundation

/// Sizes as a reader wants them: "2.1 MiB". (Durations: `Console.duration`, as the console prints them.)
public enum ByteCount {
    public static func text(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(n), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
