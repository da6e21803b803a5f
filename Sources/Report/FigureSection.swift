import Foundation
import Pipeline

/// One figure of the paper in the report: the image and its caption, its claims, the numbers behind
/// it as CSV downloads, and where it came from. A figure never run gets a section that says so.
public struct FigureSection: Sendable {
    public let figure: StageSnapshot
    public let snapshot: ReportSnapshot

    public init(figure: StageSnapshot, snapshot: ReportSnapshot) {
        self.figure = figure
        self.snapshot = snapshot
    }

    var name: String { figure.stage.name }

    /// The recipe's title ("Fig. 2", "App. H"); for a figure kind without one, read from the name.
    public var title: String {
        if let own = figure.stage.kind.title(params: figure.stage.params) { return own }
        if name.hasPrefix("fig"), let n = Int(name.dropFirst(3)) { return "Fig. \(n)" }
        if name.hasPrefix("app"), name.count == 4, let letter = name.last, letter.isUppercase { return "App. \(letter)" }
        let words = name.replacingOccurrences(of: "-", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// The stage's description, or those of the stages it draws from (figure stages have none of their own).
    public var caption: String {
        if let own = figure.stage.description { return own }
        var seen = Set<String>(), parts: [String] = []
        for dep in figure.stage.deps {
            guard let stage = snapshot.pipeline.stage(dep), seen.insert(stage.group).inserted, let text = stage.description else { continue }
            parts.append(text)
        }
        return parts.isEmpty ? "Drawn from \(figure.stage.deps.joined(separator: ", "))." : parts.joined(separator: " ")
    }

    /// "Fig. 2. " before a caption that does not already start with it.
    var captionLead: HTML { caption.hasPrefix(title) ? "" : "<strong>\(title).</strong> " }

    public var html: HTML {
        """
        <section id="\(name)" aria-labelledby="\(name)-title">
        <h2 id="\(name)-title">\(title) <small>stage <code>\(name)</code> · <span class="state \(figure.condition.cssClass)">\(figure.condition.label)</span></small></h2>
        \(stateNote)
        \(body)
        </section>
        """
    }

    var stateNote: HTML {
        switch figure.condition {
        case .upToDate:
            return ""
        case .stale(let reasons):
            let shown: HTML = figure.record == nil ? " No earlier result is in the cache."
                : " Shown below: its last run, which is no longer current; its claims are not counted in the summary."
            return "<p class=\"note stale\" role=\"note\"><strong>Stale:</strong> \(reasons.joined(separator: "; ")).\(shown) Bring it up to date with <code>\(snapshot.rerunCommand(name, force: false))</code>.</p>"
        case .neverRun:
            return "<p class=\"note never-run\" role=\"note\"><strong>Never run</strong> at profile <code>\(snapshot.pipeline.profile)</code>: this figure has no result in the cache yet. Draw it with <code>\(snapshot.rerunCommand(name, force: false))</code>.</p>"
        case .failed(let error):
            let shown: HTML = figure.record == nil ? "" : " Shown below: its last successful run; its claims are not counted in the summary."
            return "<p class=\"note failed\" role=\"note\"><strong>Failed:</strong> \(error).\(shown) <code>bnrepro show \(name)</code> has the log.</p>"
        }
    }

    var body: HTML {
        guard let record = figure.record else { return "<p>\(caption)</p>" }
        let claims = (try? CachedClaims.read(record, store: snapshot.store))?.claims ?? []
        return """
        \(images(record))
        <h3>Claims</h3>
        \(ClaimsTableHTML.render(claims, name: name, caption: "Claims of \(title): the paper's value and ours"))
        <h3>Data</h3>
        \(downloads(claims))
        <h3>Provenance</h3>
        \(ProvenanceHTML(stage: figure, record: record, snapshot: snapshot).html)
        """
    }

    func images(_ record: ActionRecord) -> HTML {
        let pngs = record.outputs.keys.filter { $0.hasSuffix(".png") }.sorted()
        if pngs.isEmpty { return "<p>\(caption)</p><p class=\"note\" role=\"note\">This stage wrote no PNG.</p>" }
        let figures: [HTML] = pngs.map { png in
            guard let data = snapshot.object(record, png) else {
                return "<p class=\"note\" role=\"note\">\(png) is missing from the cache (run <code>bnrepro verify</code>, then <code>\(snapshot.rerunCommand(name, force: true))</code>).</p><p>\(caption)</p>"
            }
            let size: HTML = PNGSize(data).map { "width=\"\($0.width)\" height=\"\($0.height)\" " } ?? ""
            let alt = "\(title) as reproduced by bnrepro (\(png)): \(caption)"
            return """
            <figure><img src="\(HTML.dataURI(data, mediaType: "image/png"))" \(size)alt="\(alt)">\
            <figcaption>\(captionLead)\(caption)</figcaption></figure>
            """
        }
        return figures.joined(separator: "\n")
    }

    func downloads(_ claims: [Claim]) -> HTML {
        let (files, notes) = FigureData.downloads(figure: figure, claims: claims, in: snapshot)
        let items: [HTML] = files.map { file in
            "<li><a href=\"\(HTML.dataURI(Data(file.csv.utf8), mediaType: "text/csv;charset=utf-8"))\" download=\"\(file.fileName)\">\(file.fileName)</a> — \(file.label)</li>"
        } + notes.map { "<li>\($0)</li>" }
        return "<ul class=\"downloads\">\(items)</ul>"
    }
}

/// Width and height from a PNG's IHDR chunk, so the page reserves the image's box before it decodes.
struct PNGSize {
    let width: Int
    let height: Int

    init?(_ data: Data) {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        func be32(_ i: Int) -> Int { bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
        width = be32(16)
        height = be32(20)
    }
}
