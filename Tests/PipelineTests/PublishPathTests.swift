import Foundation
import Pipeline
import PipelineTestKinds
import XCTest

/// A stage's `publish` directory stays inside the project directory, whatever pipeline.json, a profile
/// or --set says, and whatever symlinks the directory holds when the pipeline loads or publishes.
final class PublishPathTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("publish-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("project"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("outside"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private var project: URL { scratch.appendingPathComponent("project") }
    private var outside: URL { scratch.appendingPathComponent("outside") }

    private func pipeline(publish: String?, profiles: String = "{}") -> String {
        let field = publish.map { #", "publish": \#(JSONValue.string($0).canonicalText)"# } ?? ""
        return #"{"profiles": \#(profiles), "stages": [{"name": "a", "kind": "test-write", "params": {"text": "A"}\#(field)}]}"#
    }

    /// The error resolving `text` gives (or "no error"), with the document loaded from the project
    /// directory when `fromDisk`, so that symlinks there are seen.
    private func message(_ text: String, profile: String? = nil, set: [String] = [], fromDisk: Bool = false) -> String {
        do {
            let doc: PipelineDocument
            if fromDisk {
                let url = project.appendingPathComponent("pipeline.json")
                try Data(text.utf8).write(to: url)
                doc = try PipelineDocument.load(url)
            } else {
                doc = try PipelineDocument.parse(Data(text.utf8))
            }
            _ = try ResolvedPipeline(document: doc, profile: profile, overrides: try set.map(Overrides.parseAssignment),
                                     registry: TestKinds.registry)
            return "no error"
        } catch { return "\(error)" }
    }

    func testPublishOutsideTheProjectIsRejectedWhenLoading() {
        let here = "pipeline.json: stage 'a', field 'publish': "
        let cases = [
            ("../out", "'../out' has a '..' component; it must stay inside the project directory"),
            ("figures/../../out", "'figures/../../out' has a '..' component; it must stay inside the project directory"),
            ("/tmp/out", "'/tmp/out' is absolute; it must be relative to the project directory"),
            ("", "is empty; name a directory inside the project directory, e.g. \"figures\""),
            (".", "'.' is the project directory itself; name a directory inside it"),
            ("./", "'./' is the project directory itself; name a directory inside it"),
            ("figures\u{0}x", "contains a NUL character"),
        ]
        for (publish, problem) in cases {
            XCTAssertEqual(message(pipeline(publish: publish)), here + problem, publish)
        }
        for fine in ["figures", "figures/sub", "./tables", "a..b"] {
            XCTAssertEqual(message(pipeline(publish: fine)), "no error", fine)
        }
    }

    func testPublishSetByAProfileOrSetIsChecked() throws {
        XCTAssertEqual(message(pipeline(publish: nil), set: ["a.publish=../x"]),
                       "cannot apply 'a.publish': --set: stage 'a', field 'publish': '../x' has a '..' component; it must stay inside the project directory")
        XCTAssertEqual(message(pipeline(publish: "figures"), set: ["a.publish=/etc"]),
                       "cannot apply 'a.publish': --set: stage 'a', field 'publish': '/etc' is absolute; it must be relative to the project directory")
        XCTAssertEqual(message(pipeline(publish: nil), set: ["a.publish=5"]),
                       "cannot apply 'a.publish': --set: stage 'a', field 'publish': expected a string, got number")
        XCTAssertEqual(message(pipeline(publish: nil, profiles: #"{"p": {"a.publish": "../../p"}}"#), profile: "p"),
                       "cannot apply 'a.publish': profile 'p': stage 'a', field 'publish': '../../p' has a '..' component; it must stay inside the project directory")
        // null turns publishing off; a safe path is taken.
        let doc = try PipelineDocument.parse(Data(pipeline(publish: "figures").utf8))
        let off = try ResolvedPipeline(document: doc, overrides: [try Overrides.parseAssignment("a.publish=null")], registry: TestKinds.registry)
        XCTAssertNil(off.stage("a")?.publish)
        let tables = try ResolvedPipeline(document: doc, overrides: [try Overrides.parseAssignment("a.publish=tables")], registry: TestKinds.registry)
        XCTAssertEqual(tables.stage("a")?.publish, "tables")
    }

    func testPublishThroughASymlinkLeadingOutsideIsRejectedWhenLoading() throws {
        let fm = FileManager.default
        try fm.createSymbolicLink(at: project.appendingPathComponent("out"), withDestinationURL: outside)
        try fm.createDirectory(at: project.appendingPathComponent("real"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: project.appendingPathComponent("inside"), withDestinationURL: project.appendingPathComponent("real"))
        try fm.createSymbolicLink(at: project.appendingPathComponent("dangling"), withDestinationURL: scratch.appendingPathComponent("nothing"))
        let link = project.appendingPathComponent("out").path
        let escape = "'\(link)' is a symlink to '\(outside.path)', outside the project directory '\(project.path)'"
        XCTAssertEqual(message(pipeline(publish: "out/figures"), fromDisk: true), "pipeline.json: stage 'a', field 'publish': " + escape)
        XCTAssertEqual(message(pipeline(publish: "out"), fromDisk: true), "pipeline.json: stage 'a', field 'publish': " + escape)
        XCTAssertEqual(message(pipeline(publish: nil), set: ["a.publish=out"], fromDisk: true),
                       "cannot apply 'a.publish': --set: stage 'a', field 'publish': " + escape)
        XCTAssertTrue(message(pipeline(publish: "dangling"), fromDisk: true).contains("is a symlink that leads nowhere"))
        // A symlink that stays inside the project, and a directory not made yet, are fine.
        XCTAssertEqual(message(pipeline(publish: "inside/figures"), fromDisk: true), "no error")
        XCTAssertEqual(message(pipeline(publish: "new/figures"), fromDisk: true), "no error")
        // At publish time the output's own name is checked too: a file that is a symlink out is refused.
        try fm.createDirectory(at: project.appendingPathComponent("figs"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: project.appendingPathComponent("figs/out.txt"), withDestinationURL: outside.appendingPathComponent("victim"))
        try Data("x".utf8).write(to: outside.appendingPathComponent("victim"))
        XCTAssertEqual(PublishPath.escapingSymlink("figs/out.txt", in: project),
                       "'\(project.path)/figs/out.txt' is a symlink to '\(outside.path)/victim', outside the project directory '\(project.path)'")
        XCTAssertNil(PublishPath.escapingSymlink("figs/other.txt", in: project))
    }

    /// The pipeline loads while figures/ is a plain name; by the time the stage publishes, figures/ is
    /// a symlink out of the project. Nothing may be written through it.
    func testPublishChecksSymlinksAgainWhenPublishing() throws {
        let box = try Sandbox(basicPipeline)
        let doc = try PipelineDocument.load(box.directory.appendingPathComponent("pipeline.json"))
        let pipeline = try ResolvedPipeline(document: doc, registry: TestKinds.registry)
        let figures = box.directory.appendingPathComponent("figures")
        try FileManager.default.createSymbolicLink(at: figures, withDestinationURL: outside)
        let runner = Runner(pipeline: pipeline, store: try CacheStore(root: box.cache),
                            executor: LocalExecutor(worker: Sandbox.binary, environment: ["BNREPRO_TEST_COUNTER": box.counter.path]),
                            console: Console(style: .silent), projectDirectory: box.directory)
        var options = RunOptions()
        options.targets = ["c"]
        XCTAssertThrowsError(try runner.run(options)) { error in
            XCTAssertEqual("\(error)", "stage 'c', field 'publish': not published: '\(figures.path)' is a symlink to '\(self.outside.path)', "
                           + "outside the project directory '\(box.directory.path)'")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [], "nothing was written outside")
        XCTAssertEqual(box.executions.sorted(), ["a", "b", "c"], "the stages ran; only publishing was refused")
    }
}
