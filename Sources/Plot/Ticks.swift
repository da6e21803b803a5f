import Foundation

// Tick positions and their labels: 1-2-5 steps on linear axes, powers of ten (and minor ticks) on
// log axes. Pure functions of the range, so they are tested without drawing anything.

public struct Tick: Equatable, Sendable {
    public var value: Double
    /// nil for an unlabelled (minor) tick.
    public var label: RichText?
    public var isMajor: Bool { label != nil }

    public init(value: Double, label: RichText?) { self.value = value; self.label = label }
}

public struct TickSet: Equatable, Sendable {
    public var ticks: [Tick]
    /// Set when labels were divided by a power of ten; drawn once at the end of the axis (×10⁸).
    public var offset: RichText?

    public var major: [Tick] { ticks.filter(\.isMajor) }
    public var labels: [String] { major.compactMap { $0.label?.plain } }
}

public enum TickGenerator {
    /// Nice linear ticks: the smallest 1-2-5 step that gives at most `maxTicks` ticks inside [lo, hi].
    public static func linear(_ lo: Double, _ hi: Double, maxTicks: Int) -> TickSet {
        guard lo.isFinite, hi.isFinite else { return TickSet(ticks: [], offset: nil) }
        let (a, b) = lo <= hi ? (lo, hi) : (hi, lo)
        let span = b - a > 0 ? b - a : max(abs(a), 1) * 1e-6
        let n = max(2, maxTicks)
        var exponent = Int((log10(span / Double(n))).rounded(.down)) - 1
        var previous: Step?
        func ticks(_ step: Step) -> TickSet {
            let (first, last) = step.indices(a, b)
            return format(values: (first...max(first, last)).map(step.value).filter { $0 >= a - span * 1e-9 && $0 <= b + span * 1e-9 },
                          step: step)
        }
        while true {
            for mantissa in [1, 2, 5] {
                let step = Step(mantissa: mantissa, exponent: exponent)
                let (first, last) = step.indices(a, b)
                let count = last - first + 1
                if count <= n {
                    // A lone tick says nothing about scale: keep the last step with two or more instead.
                    if count < 2, let p = previous { return ticks(p) }
                    return ticks(step)
                }
                previous = step
            }
            exponent += 1
        }
    }

    /// Log ticks: labelled powers of ten (thinned to at most `maxMajor`), minor ticks at 2…9 × 10ᵏ.
    /// When fewer than two powers of ten fall inside the range, the minor ticks are labelled as
    /// decimals (0.8, 0.9, 1, 2) so a narrow log axis still reads; below that, linear ticks are used.
    public static func log(_ lo: Double, _ hi: Double, maxMajor: Int) -> TickSet {
        guard lo > 0, hi > 0, lo.isFinite, hi.isFinite else { return TickSet(ticks: [], offset: nil) }
        let (a, b) = lo <= hi ? (lo, hi) : (hi, lo)
        let la = log10(a), lb = log10(b)
        let eps = 1e-9
        let kLo = Int((la - eps).rounded(.up)), kHi = Int((lb + eps).rounded(.down))
        let decades = kHi >= kLo ? Array(kLo...kHi) : []
        let inRange = { (v: Double) in v >= a * (1 - eps) && v <= b * (1 + eps) }

        if decades.count >= 2 {
            let stride = max(1, Int((Double(decades.count) / Double(max(1, maxMajor))).rounded(.up)))
            var ticks: [Tick] = []
            for k in Int(la.rounded(.down))...Int(lb.rounded(.down)) {
                let p = pow10(k)
                if inRange(p) {
                    ticks.append(Tick(value: p, label: k % stride == 0 ? .powerOfTen(k) : nil))
                }
                if stride == 1 {
                    for m in 2...9 where inRange(Double(m) * p) { ticks.append(Tick(value: Double(m) * p, label: nil)) }
                }
            }
            return TickSet(ticks: ticks, offset: nil)
        }

        // Narrow range: label every m × 10ᵏ inside it, thinning to even mantissas, then 1-2-5, then 1-3.
        for mantissas in [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 4, 6, 8], [1, 2, 5], [1, 3]] {
            var ticks: [Tick] = []
            for k in Int(la.rounded(.down))...Int(lb.rounded(.down)) {
                for m in 1...9 {
                    let v = Double(m) * pow10(k)
                    guard inRange(v) else { continue }
                    ticks.append(Tick(value: v, label: mantissas.contains(m) ? RichText(decimal(m, k)) : nil))
                }
            }
            let labelled = ticks.filter(\.isMajor).count
            if labelled < 2 { break }
            if labelled <= max(2, maxMajor) { return TickSet(ticks: ticks, offset: nil) }
        }
        return linear(a, b, maxTicks: max(2, maxMajor))
    }

    /// Ticks at given values, labelled like a linear axis with the smallest step between them.
    public static func fixed(_ values: [Double]) -> TickSet {
        let sorted = values.sorted()
        // The fewest decimals that write every value exactly (0.5 and 1.25 → 0.50, 1.25).
        let decimals = (0...6).first { d in
            sorted.allSatisfy { v in abs((v * pow10(d)).rounded() - v * pow10(d)) < 1e-6 * max(1, abs(v * pow10(d))) }
        } ?? 6
        return TickSet(ticks: values.map { Tick(value: $0, label: RichText(formatFixed($0, decimals: decimals))) },
                       offset: nil)
    }

    // MARK: - helpers

    struct Step {
        let mantissa: Int
        let exponent: Int
        var size: Double { Double(mantissa) * pow10(exponent) }
        func indices(_ a: Double, _ b: Double) -> (Int, Int) {
            let s = size
            return (Int((a / s - 1e-9).rounded(.up)), Int((b / s + 1e-9).rounded(.down)))
        }
        /// i × step computed so that 3 × 0.1 is 0.3, not 0.30000000000000004.
        func value(_ i: Int) -> Double {
            exponent >= 0 ? Double(i * mantissa) * pow10(exponent) : Double(i * mantissa) / pow10(-exponent)
        }
    }

    static func pow10(_ k: Int) -> Double { Foundation.pow(10.0, Double(k)) }

    /// Labels for linear ticks: one number of decimals for all; a ×10ᵏ offset when numbers are large or tiny.
    static func format(values: [Double], step: Step) -> TickSet {
        let largest = values.map(abs).max() ?? 0
        var scale = 0
        if largest >= 1e5 || (largest > 0 && largest < 1e-3) {
            scale = Int(log10(largest).rounded(.down))
        }
        let decimals = max(0, scale - step.exponent)
        let ticks = values.map { v in
            Tick(value: v, label: RichText(formatFixed(v / pow10(scale), decimals: decimals)))
        }
        return TickSet(ticks: ticks, offset: scale == 0 ? nil : .scaleOffset(scale))
    }

    /// A fixed-point number with a real minus sign, never "-0.00".
    static func formatFixed(_ v: Double, decimals: Int) -> String {
        var s = String(format: "%.\(decimals)f", v)
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { s.removeFirst() }
        return RichText.minusSign(s)
    }

    /// m × 10ᵏ as a plain decimal: 0.8, 2, 30.
    static func decimal(_ m: Int, _ k: Int) -> String {
        k >= 0 ? formatFixed(Double(m) * pow10(k), decimals: 0) : formatFixed(Double(m) / pow10(-k), decimals: -k)
    }
}
