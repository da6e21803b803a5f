import CDNNL
import Tensor

/// One oneDNN convolution for the inference pass: `forward_inference` (no training workspace), bias always
/// (BN folded into it in the BN nets), and the pointwise work after it done by oneDNN on the output tile
/// while it is still in registers (post-ops), instead of in a second pass over memory:
///   dst = relu(conv(src, W) + b + dst)   `.residualRelu`  (a block's second conv: dst holds the shortcut)
///   dst = relu(conv(src, W) + b)         `.relu`
///   dst = conv(src, W) + b               `.plain`         (the option-B 1×1 shortcut)
/// Activations are blocked (the stem's input plain NCHW); weights arrive OIHW and are reordered into the
/// format oneDNN chose (`format_tag_any`) just before the call, as in `ConvPrimitives`.
final class InferenceConv {
    enum Epilogue: Equatable { case plain, relu, residualRelu }

    let primitive: DNNLPrimitive
    let epilogue: Epilogue
    private let toPrimitiveWeights: DNNLPrimitive?
    private let weightsUser, weightsPrimitive, bias: DNNLMemory
    /// The activations, staged into the primitive's layout where it differs from the engine's.
    private let src, dst: ActivationStaging
    private let context: DNNLContext
    /// Floats of scratch the caller must supply for the reordered weights.
    let scratchCount: Int

    init(context: DNNLContext, batch: Int, inChannels: Int, outChannels: Int, inputSize: Int, stride: Int,
         kernel: Int = 3, plainInput: Bool, epilogue: Epilogue) throws {
        self.context = context
        self.epilogue = epilogue
        let (geometry, chosen) = try ConvGeometry.chooseLayout({ library in
            try ConvGeometry(batch: batch, inChannels: inChannels, outChannels: outChannels, inputSize: inputSize,
                             stride: stride, kernel: kernel, plainInput: plainInput, libraryLayout: library)
        }, forward: { g in
            var fd = try g.forwardDescriptor(dnnl_forward_inference, bias: true)
            return try InferenceConv.withPostOps(epilogue) { attr in
                try ConvImplementation.make(key: g.planKey(.forwardInference, bias: true, variant: ["\(epilogue)"]),
                                            pass: .forwardInference, bias: true, op: &fd, context: context, attr: attr)
            }
        })
        primitive = chosen
        let srcMD = geometry.src, dstMD = geometry.dst, wUser = geometry.weightsUser, biasMD = geometry.bias
        let wPrim = primitive.queryMemoryDesc(dnnl_query_weights_md)
        toPrimitiveWeights = MemoryDesc.equal(wPrim, wUser) ? nil
            : try DNNLPrimitive.reorder(from: wUser, to: wPrim, context: context)
        scratchCount = MemoryDesc.bytes(wPrim) / 4
        src = try ActivationStaging(engine: srcMD, primitive: primitive.queryMemoryDesc(dnnl_query_src_md), reads: true, writes: false,
                                    context: context)
        // The residual epilogue's sum reads the shortcut already in dst.
        dst = try ActivationStaging(engine: dstMD, primitive: primitive.queryMemoryDesc(dnnl_query_dst_md),
                                    reads: epilogue == .residualRelu, writes: true, context: context)
        weightsUser = try DNNLMemory(wUser, context, pointer: nil)
        weightsPrimitive = try DNNLMemory(wPrim, context, pointer: nil)
        bias = try DNNLMemory(biasMD, context, pointer: nil)
    }

    /// Builds the attribute with the epilogue's post-ops (sum first, so the ReLU sees conv + b + shortcut).
    private static func withPostOps<T>(_ epilogue: Epilogue, _ body: (dnnl_primitive_attr_t?) throws -> T) throws -> T {
        guard epilogue != .plain else { return try body(nil) }
        var a: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&a), "dnnl_primitive_attr_create")
        guard let attr = a else { throw DNNLError(call: "dnnl_primitive_attr_create", status: dnnl_runtime_error) }
        defer { dnnl_primitive_attr_destroy(attr) }
        var o: dnnl_post_ops_t?
        try dnnlCheck(dnnl_post_ops_create(&o), "dnnl_post_ops_create")
        guard let ops = o else { throw DNNLError(call: "dnnl_post_ops_create", status: dnnl_runtime_error) }
        defer { dnnl_post_ops_destroy(ops) }
        if epilogue == .residualRelu { try dnnlCheck(dnnl_post_ops_append_sum(ops, 1), "dnnl_post_ops_append_sum") }
        try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "dnnl_post_ops_append_eltwise")
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops")
        return try body(attr)
    }

    /// dst[B, Co, Ho, Ho] (blocked) = epilogue(conv(src, weights OIHW) + bias); `.residualRelu` reads dst first.
    func run(src s: UnsafeMutablePointer<Float>, weights w: UnsafeMutablePointer<Float>, bias b: UnsafeMutablePointer<Float>,
             dst d: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) throws {
        try weightsUser.setPointer(w); try bias.setPointer(b)
        var wmem = weightsUser
        if let r = toPrimitiveWeights {
            try weightsPrimitive.setPointer(scratch)
            try r.execute(context, [(DNNLArg.from, weightsUser), (DNNLArg.to, weightsPrimitive)])
            wmem = weightsPrimitive
        }
        try primitive.execute(context, [(DNNLArg.src, try src.bind(s)), (DNNLArg.weights, wmem), (DNNLArg.bias, bias),
                                        (DNNLArg.dst, try dst.bind(d))])
        try dst.finish()
    }
}
