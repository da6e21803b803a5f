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

    /// What an action record says its worker computed with: OMP_NUM_THREADS as libgomp reads it, else the cores.
    func testWorkerThreadsReadOMPNumThreadsAsLibgompDoes() {
        XCTAssertEqual(WorkerThreads.count(environment: ["OMP_NUM_THREADS": "3"], cores: 2), 3)
        XCTAssertEqual(WorkerThreads.count(environment: ["OMP_NUM_THREADS": "2,1"], cores: 8), 2, "the outer level of a list")
        XCTAssertEqual(WorkerThreads.count(environment: ["OMP_NUM_THREADS": ""], cores: 2), 2)
        XCTAssertEqual(WorkerThreads.count(environment: ["OMP_NUM_THREADS": "0"], cores: 4), 4)
        XCTAssertEqual(WorkerThreads.count(environment: [:], cores: 2), 2)
        XCTAssertNil(WorkerThreads.requested(environment: ["OMP_NUM_THREADS": "many"]))
    }
}
