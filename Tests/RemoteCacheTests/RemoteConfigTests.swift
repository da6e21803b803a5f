import DatasetsTestSupport
import Foundation
@testable import RemoteCache
import XCTest

final class RemoteConfigTests: XCTestCase {
    func testRemotesFileRefusesCredentialsInURLsAndBadNames() throws {
        var config = RemoteConfig()
        XCTAssertThrowsError(try config.add(name: "lab", url: "https://me:secret@cache.example/bn", readOnly: false, makeDefault: false)) {
            XCTAssertTrue("\($0)".contains("the URL holds credentials"), "\($0)")
        }
        XCTAssertThrowsError(try config.add(name: "lab/x", url: "https://cache.example/bn", readOnly: false, makeDefault: false))
        XCTAssertThrowsError(try config.add(name: "lab", url: "ftp://cache.example/bn", readOnly: false, makeDefault: false))
        try config.add(name: "lab", url: "https://cache.example/bn", readOnly: false, makeDefault: false)
        try config.add(name: "mirror", url: "file:///proj/bn/remote", readOnly: true, makeDefault: false)
        XCTAssertEqual(config.defaultRemote, "lab", "the first remote becomes the default")

        let project = try temporaryDirectory("bnrepro-remotes-file")
        try config.save(projectDirectory: project)
        XCTAssertEqual(try RemoteConfig.load(projectDirectory: project), config)
        let mirror = try config.resolve("mirror", projectDirectory: project, credentials: UserCredentials(environment: ["XDG_CONFIG_HOME": project.path]))
        XCTAssertTrue(mirror.readOnly)
        XCTAssertFalse(mirror.hasToken)
        XCTAssertThrowsError(try config.resolve("nope", projectDirectory: project, credentials: UserCredentials(environment: [:]))) {
            XCTAssertTrue("\($0)".contains("no remote named 'nope'") && "\($0)".contains("lab, mirror"), "\($0)")
        }
    }

    func testTheTokenComesFromTheEnvironmentBeforeTheCredentialsFile() throws {
        let home = try temporaryDirectory("bnrepro-credentials-order")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("bnrepro"), withIntermediateDirectories: true)
        try Data("from-file\n".utf8).write(to: home.appendingPathComponent("token"))
        try Data(#"{"remotes": {"my-lab": {"tokenFile": "\#(home.path)/token"}}}"#.utf8).write(to: home.appendingPathComponent("bnrepro/credentials.json"))
        var config = RemoteConfig()
        try config.add(name: "my-lab", url: "https://cache.example/bn", readOnly: false, makeDefault: true)
        let fromFile = try config.resolve(nil, projectDirectory: home, credentials: UserCredentials(environment: ["XDG_CONFIG_HOME": home.path]))
        XCTAssertEqual(fromFile.token, "from-file")
        let both = UserCredentials(environment: ["XDG_CONFIG_HOME": home.path, "BNREPRO_REMOTE_TOKEN_MY_LAB": "from-env"])
        XCTAssertEqual(try config.resolve(nil, projectDirectory: home, credentials: both).token, "from-env")
        try Data(#"{"remotes": {"my-lab": {"tokenEnv": "LAB_TOKEN"}}}"#.utf8).write(to: home.appendingPathComponent("bnrepro/credentials.json"))
        XCTAssertThrowsError(try config.resolve(nil, projectDirectory: home, credentials: UserCredentials(environment: ["XDG_CONFIG_HOME": home.path]))) {
            XCTAssertTrue("\($0)".contains("$LAB_TOKEN, which is not set"), "\($0)")
        }
    }
}
