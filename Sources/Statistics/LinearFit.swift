/// Least-squares line y = intercept + slope·x and its coefficient of determination R².
public struct LinearFit: Equatable, Sendable, Codable {
    public let slope: Double
    public let intercept: Double
    public let rSquared: Double

    public init(x: [Double], y: [Double]) {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        slope = sxx > 0 ? sxy / sxx : .nan
        intercept = my - slope * mx
        rSquared = syy > 0 ? sxy * sxy / (sxx * syy) : 1
    }
}
