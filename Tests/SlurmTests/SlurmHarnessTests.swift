import Foundation
import XCTest

/// The harness itself, without a cluster: under `make test-slurm` (BNREPRO_SLURM_REQUIRED set) a Slurm
/// test that cannot do its job must fail, never skip.
final class SlurmHarnessTests: XCTestCase {
    func testSkippingFailsWhenASlurmClusterIsRequired() throws {
        let previous = ProcessInfo.processInfo.environment["BNREPRO_SLURM_REQUIRED"]
        defer {
            if let previous { setenv("BNREPRO_SLURM_REQUIRED", previous, 1) } else { unsetenv("BNREPRO_SLURM_REQUIRED") }
        }
        setenv("BNREPRO_SLURM_REQUIRED", "1", 1)
        let required = TestCluster.skipUnlessRequired("job 7 runs on another node")
        XCTAssertTrue(required is HarnessError, "\(required)")
        XCTAssertTrue("\(required)".contains("job 7 runs on another node, but BNREPRO_SLURM_REQUIRED is set"), "\(required)")
        unsetenv("BNREPRO_SLURM_REQUIRED")
        XCTAssertTrue(TestCluster.skipUnlessRequired("no cluster") is XCTSkip)
    }
}
