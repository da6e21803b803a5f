import ArgumentParser
import Foundation
import Pipeline
import Report

enum Format {
    static func bytes(_ n: Int64) -> String { ByteCount.text(n) }

    static func age(_ date: Date) -> String {
        let s = Date().timeIntervalSince(date)
        if s < 90 { return "\(Int(s))s ago" }
        if s < 5400 { return "\(Int(s / 60))m ago" }
        if s < 129600 { return "\(Int(s / 3600))h ago" }
        return "\(Int(s / 86400))d ago"
    }

    static func table(_ rows: [[String]]) -> String { TextTable.render(rows) }
}
