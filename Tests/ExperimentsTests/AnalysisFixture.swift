import ArrayFormats
import Datasets
import DatasetsTestSupport
import Foundation
@testable import Pipeline
import XCTest
@testable import Experiments

/// A decoded synthetic CIFAR-10 (150 training images) and contexts for analysis and figure stages, made
/// the way the runner makes them: params with defaults filled in, dependency outputs, a fresh directory.
final class AnalysisFixture {
    let dir: URL
    private(set) var decode: StageInputs

    init(_ label: String) throws {
        dir = try temporaryDirectory(label)
        let archive = dir.appendingPathComponent("cifar.tar.gz")
        try Data(SyntheticCIFAR(recordsPerFile: 30).tarGz()).write(to: archive)
        decode = StageInputs(stage: "download", kind: "download", params: JSONObject(), files: [DownloadStage.outputName: archive])
        let context = try self.context("decode", CIFAR10DecodeStage(), [("records_per_file", 30)], inputs: [decode])
        try CIFAR10DecodeStage().run(context)
        decode = outputs(of: context, kind: "cifar10-decode")
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// Params: the kind's defaults, then the given ones; inputs default to the decoded data set.
    func context(_ stage: String, _ kind: any StageKind, _ params: [(String, JSONValue)],
                 inputs: [StageInputs]? = nil) throws -> StageContext {
        var object = JSONObject()
        for spec in kind.parameters { if let d = spec.defaultValue { object[spec.name] = d } }
        for (k, v) in params { object[k] = v }
        let out = dir.appendingPathComponent("\(stage)/out"), scratch = dir.appendingPathComponent("\(stage)/scratch")
        try? FileManager.default.removeItem(at: dir.appendingPathComponent(stage))
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        return StageContext(stage: stage, key: "key-\(stage)", params: object, inputs: inputs ?? [decode], outputDirectory: out,
                            scratchDirectory: scratch, partialsDirectory: dir.appendingPathComponent("\(stage)/partials"),
                            progress: { _ in })
    }

    /// A finished stage's outputs as a dependency sees them.
    func outputs(of context: StageContext, kind: String) -> StageInputs {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: context.outputDirectory.path)) ?? []
        var files: [String: URL] = [:]
        for n in names { files[n] = context.output(n) }
        return StageInputs(stage: context.stage, kind: kind, params: context.params, files: files)
    }

    /// Runs `kind` with the small-network params and returns its context.
    func run(_ stage: String, _ kind: any StageKind, _ params: [(String, JSONValue)]) throws -> StageContext {
        let c = try context(stage, kind, params)
        try kind.run(c)
        return c
    }

    /// Renders figure `id` from `analysis`, checks every PNG carries the provenance chunks, returns the PNG names.
    @discardableResult
    func renderFigure(_ id: String, from analysis: StageInputs, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let stage = FigureStage(recipes: ExperimentKinds.figureRecipes)
        let c = try context(id, stage, [("figure", .string(id))], inputs: [analysis])
        try stage.run(c)
        let pngs = try FileManager.default.contentsOfDirectory(atPath: c.outputDirectory.path).filter { $0.hasSuffix(".png") }.sorted()
        XCTAssertFalse(pngs.isEmpty, "figure \(id) wrote no PNG", file: file, line: line)
        for name in pngs {
            let bytes = try [UInt8](Data(contentsOf: c.output(name)))
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], name, file: file, line: line)
            let text = String(decoding: bytes, as: UTF8.self)
            for key in ["tEXtStageKey", "key-\(id)", "tEXtParams", "tEXtGitCommit"] {
                XCTAssertTrue(text.contains(key), "\(name) lacks \(key)", file: file, line: line)
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: c.output(name.replacingOccurrences(of: ".png", with: ".svg")).path))
        }
        XCTAssertNoThrow(try ClaimsFile.read(from: c.output(ClaimsFile.fileName)), "figure \(id) wrote no readable claims.json", file: file, line: line)
        return pngs
    }
}

/// Small-network params shared by the analysis tests: ResNet-8, batches of 16.
let smallNetwork: [(String, JSONValue)] = [("depth", 8), ("batchSize", 16)]

func readNPY(_ url: URL) throws -> (values: [Double], shape: [Int]) {
    let a = try NPY.read(from: url)
    switch a.dtype {
    case .float32: return (try a.float32Values().map(Double.init), a.shape)
    case .float64: return (try a.float64Values(), a.shape)
    case .int32: return (try a.int32Values().map(Double.init), a.shape)
    case .uint8: return (try a.uint8Values().map(Double.init), a.shape)
    }
}

func readJSON<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
    try ResultJSON.read(type, from: url)
}
