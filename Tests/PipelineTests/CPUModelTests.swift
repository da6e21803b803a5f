@testable import Pipeline
import XCTest

/// What the records and the engine plan's file name say about the processor.
final class CPUModelTests: XCTestCase {
    let cpuinfo = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 25
        model\t\t: 1
        model name\t: AMD EPYC
        flags\t\t: fpu sse4_2 avx avx2 fma
        processor\t: 1
        model name\t: AMD EPYC
        """

    func testTheNameIsTheFirstModelName() {
        XCTAssertEqual(CPUModel.parse(cpuinfo: cpuinfo), "AMD EPYC")
        XCTAssertNil(CPUModel.parse(cpuinfo: "processor\t: 0\n"))
    }

    /// A bare "AMD EPYC" names several generations: the identity adds family, model and vector width.
    func testTheIdentityTellsGenerationsApart() {
        XCTAssertEqual(CPUModel.identity(cpuinfo: cpuinfo), "AMD EPYC family 25 model 1 avx2")
        let zen4 = cpuinfo.replacingOccurrences(of: "model\t\t: 1", with: "model\t\t: 17")
            .replacingOccurrences(of: "fma", with: "fma avx512f")
        XCTAssertEqual(CPUModel.identity(cpuinfo: zen4), "AMD EPYC family 25 model 17 avx512f")
    }
}
