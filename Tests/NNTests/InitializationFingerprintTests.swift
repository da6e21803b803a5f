import XCTest
@testable import NN

/// FNV-1a over the bit patterns of a float vector: a stable fingerprint of initial parameters.
func fingerprint(_ v: [Float]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for x in v {
        var b = x.bitPattern
        for _ in 0..<4 { h = (h ^ UInt64(b & 0xff)) &* 0x100_0000_01b3; b >>= 8 }
    }
    return h
}

/// Initial parameters of the option-A nets with He / Xavier initialisation must stay bit-identical for a
/// given seed (runs and checkpoints made before the engine options existed stay reproducible). The
/// fingerprints were recorded with the engine of commit e35aab4, before `pytorchDefault`, `linearInitialization`
/// and `shortcut` were added.
final class InitializationFingerprintTests: XCTestCase {
    static let recorded: [String: UInt64] = [
        "8 batchNorm heNormal 1": 15840806037589996401,
        "8 batchNorm heNormal 7": 5707845152434622529,
        "8 batchNorm xavierNormal 1": 13682330997188925114,
        "8 batchNorm xavierNormal 7": 442582102243547536,
        "8 none heNormal 1": 17405864785041064297,
        "8 none heNormal 7": 6784457464898662164,
        "8 none xavierNormal 1": 5302666305166346885,
        "8 none xavierNormal 7": 8978679744257212259,
        "8 lastLayerOnly heNormal 1": 12637307763376455103,
        "8 lastLayerOnly heNormal 7": 4645986398218236629,
        "8 lastLayerOnly xavierNormal 1": 11826932753056353818,
        "8 lastLayerOnly xavierNormal 7": 6590915700790515019,
        "20 batchNorm heNormal 1": 6929090492933391855,
        "20 batchNorm heNormal 7": 13377474433449854778,
        "20 batchNorm xavierNormal 1": 16917773737558220043,
        "20 batchNorm xavierNormal 7": 2649308768834229123,
        "20 none heNormal 1": 11074227056624669068,
        "20 none heNormal 7": 14447364864281447635,
        "20 none xavierNormal 1": 15568207410243547210,
        "20 none xavierNormal 7": 4709796146239306317,
        "20 lastLayerOnly heNormal 1": 16577053300764277404,
        "20 lastLayerOnly heNormal 7": 16720072228203332201,
        "20 lastLayerOnly xavierNormal 1": 8548250380646326744,
        "20 lastLayerOnly xavierNormal 7": 18353501588490480412,
        "110 batchNorm heNormal 1": 14595594847303528562,
        "110 batchNorm heNormal 7": 5197652627321784259,
        "110 batchNorm xavierNormal 1": 8464929840101498674,
        "110 batchNorm xavierNormal 7": 13739505377289600637,
        "110 none heNormal 1": 14429236480500303443,
        "110 none heNormal 7": 6879525634571465806,
        "110 none xavierNormal 1": 3003482271614391074,
        "110 none xavierNormal 7": 1671619490978311819,
        "110 lastLayerOnly heNormal 1": 7615042642437954729,
        "110 lastLayerOnly heNormal 7": 7683796186786925304,
        "110 lastLayerOnly xavierNormal 1": 6864998508275328364,
        "110 lastLayerOnly xavierNormal 7": 7884644896772519452,
    ]

    func testHeAndXavierOptionAParametersAreUnchanged() throws {
        var checked = 0
        for depth in [8, 20, 110] {
            for norm in [Normalization.batchNorm, .none, .lastLayerOnly] {
                for ini in [Initialization.heNormal, .xavierNormal] {
                    let c = try ResNetConfig(depth: depth, normalization: norm, initialization: ini)
                    for seed: UInt64 in [1, 7] {
                        let key = "\(depth) \(norm) \(ini) \(seed)"
                        XCTAssertEqual(fingerprint(c.initialParameters(seed: seed)), Self.recorded[key], key)
                        checked += 1
                    }
                }
            }
        }
        print("INIT OK: \(checked) option-A He/Xavier parameter vectors bit-identical to the recorded ones")
    }
}
