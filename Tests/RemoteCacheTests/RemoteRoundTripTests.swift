import DatasetsTestSupport
import Foundation
import Pipeline
import SmokeProjectSupport
import XCTest

/// A smoke run pushed to a real nginx (WebDAV PUT) and pulled into empty caches.
final class RemoteRoundTripTests: XCTestCase {
    func testPushThenPullIntoAnEmptyCacheRunsNothingAndGivesTheSameFigures() throws {
        let origin = try RemoteFixture.origin.get()
        let nginx = try Nginx()
        let recordCount = try origin.records().count
        let name = try origin.addRemote(nginx.url)
        let push = try origin.remoteCommand(["push", "--remote", name])
        XCTAssertEqual(push.status, 0, push.output)
        XCTAssertTrue(push.output.contains("pushed \(recordCount) records"), push.output)
        XCTAssertEqual(remoteFiles(nginx.root.appendingPathComponent("ac")).count, recordCount)
        // A second push finds everything there (HEAD first) and uploads nothing.
        let again = try origin.remoteCommand(["push", "--remote", name])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("pushed 0 records") && again.output.contains(": 0 objects uploaded"), again.output)
        XCTAssertTrue(again.output.contains("\(recordCount) records already there"), again.output)

        let reader = try RemoteFixture.reader("bnrepro-remote-reader")
        let readerRemote = try reader.addRemote(nginx.url)
        // Without targets: every stage of the profile that the remote has, with its objects.
        let pull = try reader.remoteCommand(["pull", "--remote", readerRemote])
        XCTAssertEqual(pull.status, 0, pull.output)
        XCTAssertTrue(pull.output.contains("\(recordCount) stages with their objects"), pull.output)
        let run = try reader.remoteCommand(["run"] + RemoteFixture.figures)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("ran 0, cached \(recordCount)"), run.output)
        let made = try directoryContents(origin.directory.appendingPathComponent("figures"))
        XCTAssertFalse(made.isEmpty)
        XCTAssertEqual(try directoryContents(reader.directory.appendingPathComponent("figures")), made, "figures/ differ after the pull")
        let show = try reader.remoteCommand(["show", "fig6"])
        XCTAssertTrue(show.output.contains("from     remote '\(readerRemote)' (127.0.0.1: \(nginx.url))"), show.output)
        XCTAssertTrue(show.output.contains("computed on \(ProcessInfo.processInfo.hostName)"), show.output)
        let report = try reader.remoteCommand(["report"])
        XCTAssertEqual(report.status, 0, report.output)
        let page = try String(contentsOf: reader.directory.appendingPathComponent("report/index.html"), encoding: .utf8)
        let md5 = try XCTUnwrap(origin.arguments.first { $0.hasPrefix("download.params.md5=") }?.split(separator: "=").last)
        XCTAssertTrue(page.contains("CIFAR-10 archive MD5 <code>\(md5)</code>"), "the report does not show the archive's MD5")
        XCTAssertTrue(page.contains("from remote &#39;\(readerRemote)&#39;"), "the report does not say what was pulled")
    }

    func testPullingTheFiguresDownloadsNoDataSetObjectAndRunComputesNothing() throws {
        let origin = try RemoteFixture.origin.get()
        let nginx = try Nginx()
        XCTAssertEqual(try origin.remoteCommand(["push", "--remote", try origin.addRemote(nginx.url)]).status, 0)
        let figures = RemoteFixture.figures

        let reader = try RemoteFixture.reader("bnrepro-remote-figures")
        let pull = try reader.remoteCommand(["pull", "--remote", try reader.addRemote(nginx.url)] + figures)
        XCTAssertEqual(pull.status, 0, pull.output)
        XCTAssertTrue(pull.output.contains("as records only"), pull.output)
        let records = try origin.records()
        let dataSet = ["download", "decode"].flatMap { records[$0]?.objectDigests ?? [] }
        XCTAssertFalse(dataSet.isEmpty)
        let readerStore = try reader.store
        for digest in dataSet {
            XCTAssertFalse(nginx.accessLog.contains("GET /cache/cas/\(digest)"), "the pull downloaded data-set object \(digest)")
            XCTAssertNil(FileIO.regularFileSize(readerStore.objectPath(digest)))
        }
        let run = try reader.remoteCommand(["run"] + figures)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("ran 0,"), run.output)
        XCTAssertEqual(try directoryContents(reader.directory.appendingPathComponent("figures")),
                       try directoryContents(origin.directory.appendingPathComponent("figures")))
    }

    func testRunPullTakesEveryStageFromTheRemoteAndRunPushUploadsWhatItComputed() throws {
        let origin = try RemoteFixture.origin.get()
        let nginx = try Nginx()
        XCTAssertEqual(try origin.remoteCommand(["push", "--remote", try origin.addRemote(nginx.url)]).status, 0)
        let reader = try RemoteFixture.reader("bnrepro-remote-run-pull")
        let run = try reader.remoteCommand(["run", "--pull", "--remote", try reader.addRemote(nginx.url)] + RemoteFixture.figures)
        XCTAssertEqual(run.status, 0, run.output)
        let stages = try origin.records().count
        XCTAssertTrue(run.output.contains("ran 0, cached \(stages); pulled \(stages) from"), run.output)
        XCTAssertEqual(try directoryContents(reader.directory.appendingPathComponent("figures")),
                       try directoryContents(origin.directory.appendingPathComponent("figures")))
        let dataSet = ["download", "decode"].flatMap { (try? origin.records())?[$0]?.objectDigests ?? [] }
        XCTAssertFalse(dataSet.contains { nginx.accessLog.contains("GET /cache/cas/\($0)") }, "run --pull downloaded the data set")

        let empty = try Nginx()
        let writer = try RemoteFixture.reader("bnrepro-remote-run-push")
        let push = try writer.remoteCommand(["run", "download", "--push", "--remote", try writer.addRemote(empty.url)])
        XCTAssertEqual(push.status, 0, push.output)
        XCTAssertTrue(push.output.contains("ran 1, cached 0") && push.output.contains("pushed 1 record to"), push.output)
        XCTAssertEqual(remoteFiles(empty.root.appendingPathComponent("ac")).count, 1)
        try assertRecordsNameOnlyPresentObjects(empty.root)
    }

    func testAnObjectCorruptedOnTheServerIsRefusedAndNamed() throws {
        let origin = try RemoteFixture.origin.get()
        let nginx = try Nginx()
        XCTAssertEqual(try origin.remoteCommand(["push", "--remote", try origin.addRemote(nginx.url)]).status, 0)
        let fig8 = try XCTUnwrap(try origin.records()["fig8"])
        let (output, ref) = try XCTUnwrap(fig8.outputs.first { $0.key.hasSuffix(".png") })
        try Data("not the figure".utf8).write(to: nginx.root.appendingPathComponent("cas/\(ref.digest)"))

        let reader = try RemoteFixture.reader("bnrepro-remote-corrupt")
        let pull = try reader.remoteCommand(["pull", "fig8", "--remote", try reader.addRemote(nginx.url)])
        XCTAssertEqual(pull.status, 1, pull.output)
        XCTAssertTrue(pull.output.contains("skipped fig8: output '\(output)' (object \(ref.digest.prefix(16))…) is corrupt on the remote"), pull.output)
        let store = try reader.store
        XCTAssertNil(FileIO.regularFileSize(store.objectPath(ref.digest)), "a corrupt object entered the cache")
        XCTAssertNil(store.anyRecord(fig8.key), "the record of a corrupt object entered the cache")
    }

    func testARecordWhoseObjectIsMissingOnTheServerIsSkippedAndNamed() throws {
        let origin = try RemoteFixture.origin.get()
        let nginx = try Nginx()
        XCTAssertEqual(try origin.remoteCommand(["push", "--remote", try origin.addRemote(nginx.url)]).status, 0)
        let fig9 = try XCTUnwrap(try origin.records()["fig9"])
        let (output, ref) = try XCTUnwrap(fig9.outputs.min { $0.key < $1.key })
        try FileManager.default.removeItem(at: nginx.root.appendingPathComponent("cas/\(ref.digest)"))

        let reader = try RemoteFixture.reader("bnrepro-remote-missing")
        let pull = try reader.remoteCommand(["pull", "fig9", "--remote", try reader.addRemote(nginx.url)])
        XCTAssertEqual(pull.status, 1, pull.output)
        XCTAssertTrue(pull.output.contains("skipped fig9: output '\(output)' (object \(ref.digest.prefix(16))…) is missing on the remote"), pull.output)
        XCTAssertNil(try reader.store.anyRecord(fig9.key))
    }

    func testAFileRemoteRoundTripsAndAReadOnlyRemoteRefusesPush() throws {
        let origin = try RemoteFixture.origin.get()
        let directory = try temporaryDirectory("bnrepro-file-remote")
        let url = directory.absoluteString
        let readOnly = try origin.remoteCommand(["push", "--remote", try origin.addRemote(url, readOnly: true)])
        XCTAssertNotEqual(readOnly.status, 0)
        XCTAssertTrue(readOnly.output.contains("is read-only"), readOnly.output)
        XCTAssertTrue(remoteFiles(directory).isEmpty)

        let push = try origin.remoteCommand(["push", "--remote", try origin.addRemote(url)])
        XCTAssertEqual(push.status, 0, push.output)
        try assertRecordsNameOnlyPresentObjects(directory)
        let reader = try RemoteFixture.reader("bnrepro-file-reader")
        let pull = try reader.remoteCommand(["pull", "--remote", try reader.addRemote(url)] + RemoteFixture.figures)
        XCTAssertEqual(pull.status, 0, pull.output)
        let run = try reader.remoteCommand(["run"] + RemoteFixture.figures)
        XCTAssertTrue(run.output.contains("ran 0,"), run.output)
        XCTAssertEqual(try directoryContents(reader.directory.appendingPathComponent("figures")),
                       try directoryContents(origin.directory.appendingPathComponent("figures")))
    }
}
