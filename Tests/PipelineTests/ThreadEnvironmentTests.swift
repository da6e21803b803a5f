import Foundation
import Pipeline
import XCTest

/// How the local executor shares the cores between stages that run at once.
final class ThreadEnvironmentTests: XCTestCase {
    func testCoresAreSharedUnlessTheUserChose() {
        XCTAssertEqual(LocalExecutor.threadEnvironment(jobs: 2, cores: 2, inherited: [:]), ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(LocalExecutor.threadEnvironment(jobs: 3, cores: 8, inherited: [:]), ["OMP_NUM_THREADS": "2"])
        XCTAssertEqual(LocalExecutor.threadEnvironment(jobs: 4, cores: 2, inherited: [:]), ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(LocalExecutor.threadEnvironment(jobs: 1, cores: 2, inherited: [:]), [:])
        XCTAssertEqual(LocalExecutor.threadEnvironment(jobs: 2, cores: 2, inherited: ["OMP_NUM_THREADS": "2"]), [:])
    }
}
