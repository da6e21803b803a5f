import CDNNL
import Foundation
import Tensor

/// One convolution pass's primitive, chosen among the implementations oneDNN offers for it by the
/// active engine plan (`ActiveEnginePlan.choose`), which may time each of them once on this machine.
enum ConvImplementation {
    enum Pass: String {
        case forwardTraining = "fwd", forwardInference = "inference", backwardData = "bwd-data", backwardWeights = "bwd-weights"

        /// The arguments a call passes: (argument, query of its descriptor, index).
        func arguments(bias: Bool) -> [(Int32, dnnl_query_t, Int32)] {
            typealias Argument = (Int32, dnnl_query_t, Int32)
            let weights: Argument = (DNNLArg.weights, dnnl_query_weights_md, 0)
            switch self {
            case .forwardTraining, .forwardInference:
                let biasArgument: Argument = (DNNLArg.bias, dnnl_query_weights_md, 1)
                return [(DNNLArg.src, dnnl_query_src_md, 0), weights, (DNNLArg.dst, dnnl_query_dst_md, 0)]
                    + (bias ? [biasArgument] : [])
            case .backwardData:
                return [(DNNLArg.diffDst, dnnl_query_diff_dst_md, 0), weights, (DNNLArg.diffSrc, dnnl_query_diff_src_md, 0)]
            case .backwardWeights:
                let diffBias: Argument = (DNNLArg.diffBias, dnnl_query_diff_weights_md, 1)
                return [(DNNLArg.src, dnnl_query_src_md, 0), (DNNLArg.diffDst, dnnl_query_diff_dst_md, 0),
                        (DNNLArg.diffWeights, dnnl_query_diff_weights_md, 0)] + (bias ? [diffBias] : [])
            }
        }
    }

    /// The plan's key for one pass of one convolution shape, e.g. "fwd b128 16→16 32px s1 k3 bias".
    /// `variant` names what else changes the primitive (the stem's plain input, the library's layout, an
    /// inference epilogue).
    static func key(_ pass: Pass, batch: Int, inChannels: Int, outChannels: Int, inputSize: Int, stride: Int,
                    kernel: Int, bias: Bool, variant: [String]) -> String {
        ([pass.rawValue, "b\(batch)", "\(inChannels)→\(outChannels)", "\(inputSize)px", "s\(stride)", "k\(kernel)"]
            + (bias ? ["bias"] : []) + variant).joined(separator: " ")
    }

    /// The primitive the plan chooses for `op`.
    static func make<Op>(key: String, pass: Pass, bias: Bool, op: inout Op, context: DNNLContext,
                         attr: dnnl_primitive_attr_t? = nil, hint: DNNLPrimitive? = nil) throws -> DNNLPrimitive {
        // A plan names an implementation; where oneDNN offers one name twice (configurations of one
        // kernel), the first stands for it.
        var seen = Set<String>()
        let candidates = try DNNLPrimitive.candidates(op: &op, context: context, attr: attr, hint: hint)
            .filter { seen.insert($0.implementation).inserted }
        let chosen = try ActiveEnginePlan.choose(key: key, candidates: candidates.map(\.implementation)) { i in
            try secondsPerCall(candidates[i], arguments: pass.arguments(bias: bias), context: context)
        }
        return candidates[chosen]
    }

    /// Seconds per call of `primitive` on buffers of small values: the best of three rounds of at least
    /// 10 ms each, after one untimed call.
    static func secondsPerCall(_ primitive: DNNLPrimitive, arguments: [(Int32, dnnl_query_t, Int32)],
                               context: DNNLContext) throws -> Double {
        var buffers: [UnsafeMutableRawPointer] = []
        defer { buffers.forEach { $0.deallocate() } }
        var args: [(Int32, DNNLMemory)] = []
        for (arg, query, index) in arguments {
            let md = primitive.queryMemoryDesc(query, index)
            let bytes = max(MemoryDesc.bytes(md), 64)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            buffers.append(buffer)
            let floats = buffer.bindMemory(to: Float.self, capacity: bytes / 4)
            for i in 0..<(bytes / 4) { floats[i] = Float(i % 17) * 0.01 - 0.08 }
            args.append((arg, try DNNLMemory(md, context, pointer: buffer)))
        }
        func run(_ calls: Int) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { try primitive.execute(context, args) }
            try context.wait()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let first = try run(1)
        let calls = max(1, min(200, Int((0.01 / max(first, 1e-6)).rounded(.up))))
        var best = Double.infinity
        for _ in 0..<3 { best = min(best, try run(calls) / Double(calls)) }
        return best
    }
}
