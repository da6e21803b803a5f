import Foundation
import Pipeline

/// Where the report's results come from beyond the code: the CIFAR-10 archive every key chains through,
/// and the remotes that results were pulled from.
extension ReportSnapshot {
    /// The MD5 the download stage checks: a cache built from another archive (the official tarball, or
    /// the team's rebuilt copy) shares no result with this one, so a reader comparing reports needs it.
    var archiveLine: HTML {
        let md5s = Set(stages.filter { $0.stage.kind.name == "download" }.compactMap { $0.stage.params["md5"]?.stringValue })
        guard !md5s.isEmpty else { return "" }
        let codes: [HTML] = md5s.sorted().map { "<code>\($0)</code>" }
        return """
        <dt>Data</dt><dd>CIFAR-10 archive MD5 \(codes.joined(separator: ", ")): every stage's key chains through it, \
        so only a cache built from the same archive shares these results</dd>
        """
    }

    /// How many of the up-to-date results were pulled, and from which remotes (host and URL).
    var pulledLine: HTML {
        var counts: [String: Int] = [:]
        for record in stages.filter(\.isCurrent).compactMap(\.record) {
            guard let origin = store.origin(ofKey: record.key) else { continue }
            counts["'\(origin.remote)' (\(origin.url))", default: 0] += 1
        }
        guard !counts.isEmpty else { return "" }
        let parts: [HTML] = counts.sorted { $0.key < $1.key }.map { "\($0.value) from remote \($0.key)" }
        return """
        <dt>Pulled</dt><dd>\(parts.joined(separator: "; ")) (each object checked against its SHA-256; \
        <code>bnrepro audit --sample N</code> recomputes a sample here)</dd>
        """
    }
}
