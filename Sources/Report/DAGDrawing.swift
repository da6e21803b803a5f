import Foundation
import Pipeline

/// The pipeline's DAG drawn by Graphviz as inline SVG, each stage filled by its state. Without `dot`
/// the report still renders, with a note saying how to get the drawing.
public struct DAGDrawing: Sendable {
    public let stages: [StageSnapshot]
    /// Stage names that have a section of their own in the report (their nodes link to it).
    public let anchors: Set<String>

    public init(stages: [StageSnapshot], anchors: Set<String>) {
        self.stages = stages
        self.anchors = anchors
    }

    /// Graphviz source: left to right, one box per stage with its name, kind and state (the colour is
    /// never the only cue).
    public var dotSource: String {
        var lines = ["digraph pipeline {", "  rankdir=LR;", "  bgcolor=\"transparent\";",
                     "  node [shape=box, style=\"filled,rounded\", fontname=\"DejaVu Sans\", fontsize=11];",
                     "  edge [color=\"#555555\"];"]
        for snapshot in stages {
            let s = snapshot.stage
            var attributes = ["label=\(Self.quoted("\(s.name)\n\(s.kind.name) · \(snapshot.condition.label)"))",
                              "fillcolor=\(Self.quoted(snapshot.condition.fill))",
                              "tooltip=\(Self.quoted("\(s.name): \(Self.detail(snapshot.condition))"))"]
            if anchors.contains(s.name) { attributes.append("URL=\(Self.quoted("#\(s.name)"))") }
            if case .failed = snapshot.condition { attributes.append("penwidth=2") }
            lines.append("  \(Self.quoted(s.name)) [\(attributes.joined(separator: ", "))];")
            for dep in s.deps { lines.append("  \(Self.quoted(dep)) -> \(Self.quoted(s.name));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func detail(_ condition: StageSnapshot.Condition) -> String {
        switch condition {
        case .stale(let reasons): return "stale: " + reasons.joined(separator: "; ")
        case .failed(let error): return "failed: " + error
        default: return condition.label
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// The SVG, or a visible note when Graphviz is missing or fails.
    public func render(label: String) -> HTML {
        guard let dot = Self.findDot() else {
            return """
            <p class="note" role="note">The DAG drawing needs Graphviz's <code>dot</code>, which is not installed here: \
            run <code>make deps</code> or <code>apt-get install -y graphviz</code>, then <code>bnrepro report</code> again. \
            The stages and their states are listed below.</p>
            """
        }
        switch Self.run(dot, input: dotSource) {
        case .success(let svg):
            guard let start = svg.range(of: "<svg") else { return "<p class=\"note\" role=\"note\">Graphviz wrote no SVG.</p>" }
            let body = svg[start.lowerBound...].replacingOccurrences(of: "<svg", with: "<svg role=\"img\" aria-label=\"\(HTML.escape(label))\"",
                                                                     options: [], range: nil)
            return HTML(trusted: String(body))
        case .failure(let failure):
            return "<p class=\"note\" role=\"note\">Graphviz could not draw the DAG: \(failure.message)</p>"
        }
    }

    static func findDot() -> URL? {
        ExecutablePath.locate("dot")
    }

    /// Runs `dot -Tsvg`. dot reads all of its input before it writes, so writing first and reading
    /// after cannot stall on a full pipe.
    static func run(_ dot: URL, input: String) -> Result<String, DotFailure> {
        let process = Process()
        process.executableURL = dot
        process.arguments = ["-Tsvg"]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch { return .failure(DotFailure(message: "\(error)")) }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(DotFailure(message: "dot exited with status \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))"))
        }
        return .success(String(decoding: out, as: UTF8.self))
    }
}

struct DotFailure: Error, Sendable {
    let message: String
}
