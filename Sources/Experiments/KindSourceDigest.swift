import Foundation
import Pipeline

/// Which source files decide a kind's outputs, and their digest: what the source lock
/// (`KindSourceLock`, refreshed by `make kinds-lock`) records beside each kind's version, so that a
/// change to that code with no version bump fails a test instead of leaving stale results in caches.
///
/// A kind's files are found from its declaring file in Sources/Experiments by following names: every
/// file that declares (or extends) a non-private type, function or constant the file uses, and so on.
/// Files that decide no outputs (cost models, audit tolerances, the kinds' registration, the engine plan
/// file, the lock itself) are not followed. Then whole modules: those the files import among the
/// numeric ones (NN, Tensor, Datasets, Statistics, Plot, ArrayFormats) and what those depend on. Pipeline,
/// AtomicIO and the C shims are left out: they store outputs, they do not compute them.
public struct KindSourceDigest {
    public let root: URL
    private let experimentFiles: [String]
    private let text: [String: String]
    private let declaredBy: [String: Set<String>]

    static let filesDecidingNoOutputs: Set<String> = [
        "CostModels.swift", "CrossCPUTolerance.swift", "ExperimentKinds.swift", "EngineCalibration.swift",
        "EnginePlanFile.swift", "KindSourceDigest.swift", "KindSourceLock.swift",
    ]
    /// Numeric modules and the numeric modules each depends on (Package.swift).
    static let moduleDependencies: [String: [String]] = [
        "NN": ["Tensor", "ArrayFormats"], "Tensor": [], "Datasets": ["ArrayFormats"], "Statistics": [],
        "Plot": ["Statistics"], "ArrayFormats": [],
    ]

    /// `root` is the repository (the directory holding Sources/).
    public init(root: URL) throws {
        self.root = root
        let dir = root.appendingPathComponent("Sources/Experiments")
        guard let walker = FileManager.default.enumerator(atPath: dir.path) else {
            throw KindSourceError(description: "no Sources/Experiments under \(root.path)")
        }
        var files: [String] = [], text: [String: String] = [:], declaredBy: [String: Set<String>] = [:]
        var extended: [String: Set<String>] = [:]
        for case let relative as String in walker where relative.hasSuffix(".swift") {
            let path = "Sources/Experiments/" + relative
            let source = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            files.append(path)
            text[path] = source
            for (kind, name) in Self.declarations(source) {
                if kind == "extension" { extended[name, default: []].insert(path) } else { declaredBy[name, default: []].insert(path) }
            }
        }
        // An extension of a type declared here belongs to the type: whoever uses it may use what it adds.
        for (name, paths) in extended where declaredBy[name] != nil { declaredBy[name]?.formUnion(paths) }
        experimentFiles = files.sorted()
        self.text = text
        self.declaredBy = declaredBy
    }

    /// The file that declares `typeName` (a kind's or a figure recipe's type).
    public func declaringFile(of typeName: String) -> String? {
        declaredBy[typeName]?.first { path in
            Self.declarations(text[path] ?? "").contains { $0.kind != "extension" && $0.name == typeName }
        }
    }

    /// Every file that decides the outputs of the code in `start`, sorted: the followed Experiments files
    /// and the files of the modules they import.
    public func files(from start: [String]) throws -> [String] {
        var seen = Set(start), todo = start
        while let path = todo.popLast() {
            for name in Self.names(usedIn: text[path] ?? "") {
                for other in declaredBy[name] ?? [] where !seen.contains(other)
                    && !Self.filesDecidingNoOutputs.contains((other as NSString).lastPathComponent) {
                    seen.insert(other)
                    todo.append(other)
                }
            }
        }
        var modules = Set<String>(), pending = seen.flatMap { Self.imports(text[$0] ?? "") }
        while let module = pending.popLast() {
            guard let deps = Self.moduleDependencies[module], modules.insert(module).inserted else { continue }
            pending += deps
        }
        var all = Array(seen)
        for module in modules.sorted() {
            let dir = root.appendingPathComponent("Sources/\(module)")
            guard let walker = FileManager.default.enumerator(atPath: dir.path) else { continue }
            for case let relative as String in walker where relative.hasSuffix(".swift") { all.append("Sources/\(module)/\(relative)") }
        }
        return all.sorted()
    }

    /// SHA-256 over each file's path and bytes, in path order.
    public func digest(of files: [String]) throws -> String {
        var data = Data()
        for path in files {
            data.append(Data(path.utf8))
            data.append(0)
            data.append(try Data(contentsOf: root.appendingPathComponent(path)))
            data.append(0)
        }
        return Digest.sha256(data)
    }

    /// Top-level declarations visible outside their file: (keyword, name).
    static func declarations(_ source: String) -> [(kind: String, name: String)] {
        let keywords: Set = ["struct", "enum", "class", "protocol", "func", "let", "var", "typealias", "extension"]
        var out: [(String, String)] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let first = line.first, first.isLetter || first == "@" else { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ":" || $0 == "<" || $0 == "{" }).map(String.init)
            guard !words.contains("private"), !words.contains("fileprivate"),
                  let i = words.firstIndex(where: { keywords.contains($0) }), i + 1 < words.count else { continue }
            out.append((words[i], words[i + 1]))
        }
        return out
    }

    /// The identifiers of the code, outside comments and string literals.
    static func names(usedIn source: String) -> Set<String> {
        var names = Set<String>()
        for line in source.split(separator: "\n") {
            var code = Substring(line)
            if let comment = code.range(of: "//") { code = code[..<comment.lowerBound] }
            var current = "", inString = false
            for ch in code {
                if ch == "\"" { inString.toggle(); current = ""; continue }
                if inString { continue }
                if ch.isLetter || ch == "_" || (ch.isNumber && !current.isEmpty) { current.append(ch) } else {
                    if !current.isEmpty { names.insert(current) }
                    current = ""
                }
            }
            if !current.isEmpty { names.insert(current) }
        }
        return names
    }

    static func imports(_ source: String) -> [String] {
        source.split(separator: "\n").compactMap { line in
            line.hasPrefix("import ") ? String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces) : nil
        }
    }
}

public struct KindSourceError: Error, CustomStringConvertible {
    public let description: String
}

extension KindSourceDigest {
    /// The lock's entry for every kind and figure recipe this binary registers: (version, digest, files).
    public func entries(registry: KindRegistry = ExperimentKinds.registry,
                        recipes: [any FigureRecipe] = ExperimentKinds.figureRecipes) throws -> [String: (version: Int, digest: String, files: [String])] {
        func typeFile(_ value: Any) throws -> String {
            let name = String(describing: type(of: value))
            guard let file = declaringFile(of: name) else { throw KindSourceError(description: "no file in Sources/Experiments declares \(name)") }
            return file
        }
        var out: [String: (Int, String, [String])] = [:]
        let figureStage = FigureStage(recipes: recipes)
        let figureFile = try typeFile(figureStage)
        for name in registry.names where name != figureStage.name {
            guard let kind = registry.kind(named: name) else { continue }
            let files = try files(from: [try typeFile(kind)])
            out[name] = (kind.version(for: JSONObject()), try digest(of: files), files)
        }
        for recipe in recipes {
            let params = JSONObject([("figure", .string(recipe.id))])
            let files = try files(from: [figureFile, try typeFile(recipe)])
            out[KindSourceLock.key(kind: figureStage.name, params: params)] = (figureStage.version(for: params), try digest(of: files), files)
        }
        return out
    }

    /// The lock file's Swift source for `entries`.
    public static func lockSource(_ entries: [String: (version: Int, digest: String, files: [String])]) -> String {
        var lines = [
            "// The source lock: each kind's version and the digest of the source that decides its outputs",
            "// (`KindSourceDigest`). Generated by `make kinds-lock`; do not edit. `KindSourceLockTests` fails when a",
            "// kind's source changed while its version and this file did not.",
            "enum KindSourceLock {",
            "    static let entries: [String: (version: Int, digest: String)] = [",
        ]
        for key in entries.keys.sorted() {
            guard let e = entries[key] else { continue }
            lines.append("        \"\(key)\": (\(e.version), \"\(e.digest)\"),")
        }
        lines += ["    ]", "", "    /// The entry's name: the kind's, or `figure:<id>` for a figure recipe.",
                  "    static func key(kind: String, params: JSONObject) -> String {",
                  "        guard kind == \"figure\", let id = params[\"figure\"]?.stringValue else { return kind }",
                  "        return \"figure:\\(id)\"", "    }", "}", ""]
        return "import Pipeline\n\n" + lines.joined(separator: "\n")
    }
}
