// Colours as plain values, and the default colour cycle readers know from matplotlib (tab10).

/// A straight (not premultiplied) RGBA colour with components in 0...1.
public struct Color: Equatable, Hashable, Sendable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }

    /// A colour from a 24-bit hex value such as 0x1f77b4.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(red: Double((hex >> 16) & 0xff) / 255, green: Double((hex >> 8) & 0xff) / 255,
                  blue: Double(hex & 0xff) / 255, alpha: alpha)
    }

    public func withAlpha(_ a: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: a) }

    /// 8-bit components, rounded, for comparing against decoded pixels.
    public var rgba8: (UInt8, UInt8, UInt8, UInt8) {
        func q(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        return (q(red), q(green), q(blue), q(alpha))
    }

    public static let black = Color(red: 0, green: 0, blue: 0)
    public static let white = Color(red: 1, green: 1, blue: 1)
    public static let gray = Color(hex: 0x7f7f7f)

    // matplotlib's tab10, in cycle order.
    public static let tabBlue = Color(hex: 0x1f77b4)
    public static let tabOrange = Color(hex: 0xff7f0e)
    public static let tabGreen = Color(hex: 0x2ca02c)
    public static let tabRed = Color(hex: 0xd62728)
    public static let tabPurple = Color(hex: 0x9467bd)
    public static let tabBrown = Color(hex: 0x8c564b)
    public static let tabPink = Color(hex: 0xe377c2)
    public static let tabGray = Color(hex: 0x7f7f7f)
    public static let tabOlive = Color(hex: 0xbcbd22)
    public static let tabCyan = Color(hex: 0x17becf)

    /// The default cycle: series without an explicit colour take these in order.
    public static let tab10: [Color] = [tabBlue, tabOrange, tabGreen, tabRed, tabPurple,
                                        tabBrown, tabPink, tabGray, tabOlive, tabCyan]

    /// The i-th colour of the default cycle, wrapping around.
    public static func cycle(_ i: Int) -> Color { tab10[((i % tab10.count) + tab10.count) % tab10.count] }
}
