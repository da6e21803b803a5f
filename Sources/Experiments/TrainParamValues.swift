import Foundation
import Pipeline

/// `train`'s `normalization`: as `bn` says, or one BN on the last block's output.
public enum TrainNormalization: String, CaseIterable, Codable, Sendable, ParamValue {
    case byBn, lastLayerOnly
}

/// `train`'s `lr`: a rate, or "searched" (the largest stable rate a max-stable-lr dependency found).
public enum LearningRateChoice: Decodable, Sendable, Equatable, ParamValue {
    case rate(Double)
    case searched

    public static var parameterType: ParameterSpec.ValueType { .any }

    public var jsonValue: JSONValue {
        switch self {
        case .rate(let rate): return .number(rate)
        case .searched: return .string("searched")
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let rate = try? container.decode(Double.self) {
            self = .rate(rate)
        } else if let word = try? container.decode(String.self), word == "searched" {
            self = .searched
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a positive number or \"searched\"")
        }
    }
}
