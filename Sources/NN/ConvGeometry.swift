import CDNNL
import Tensor

/// The memory descriptors and padding of one convolution shape: activations blocked (the stem's input
/// plain NCHW), weights OIHW as the caller stores them and `format_tag_any` for oneDNN to choose, and
/// the padding. `ConvPrimitives` (training) and `InferenceConv` build their primitives from the same
/// geometry, so both passes compute the same convolution. With `libraryLayout` the descriptors the
/// primitives are created from leave the activations' layout to oneDNN too (`opSrc`, `opDst`), for CPUs
/// without a kernel over the engine's blocked layout (see `ActivationStaging`).
struct ConvGeometry {
    let src, dst, weightsUser, weightsAny, bias: dnnl_memory_desc_t
    /// The activation descriptors the primitives are created from: `src` and `dst`, or `format_tag_any`.
    let opSrc, opDst: dnnl_memory_desc_t
    private let strides, padLeft, padRight: dnnl_dims_t
    let batch, inChannels, outChannels, inputSize, stride, kernel: Int
    let plainInput, libraryLayout: Bool

    init(batch: Int, inChannels: Int, outChannels: Int, inputSize: Int, stride: Int, kernel: Int, plainInput: Bool,
         libraryLayout: Bool = false) throws {
        let ho = inputSize / stride
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
        self.inputSize = inputSize; self.stride = stride; self.kernel = kernel
        self.plainInput = plainInput; self.libraryLayout = libraryLayout
        src = try MemoryDesc.make([batch, inChannels, inputSize, inputSize], plainInput ? dnnl_nchw : Blocked.formatTag)
        dst = try MemoryDesc.make([batch, outChannels, ho, ho], Blocked.formatTag)
        opSrc = libraryLayout ? try MemoryDesc.make([batch, inChannels, inputSize, inputSize], dnnl_format_tag_any) : src
        opDst = libraryLayout ? try MemoryDesc.make([batch, outChannels, ho, ho], dnnl_format_tag_any) : dst
        weightsUser = try MemoryDesc.make([outChannels, inChannels, kernel, kernel], dnnl_oihw)
        weightsAny = try MemoryDesc.make([outChannels, inChannels, kernel, kernel], dnnl_format_tag_any)
        bias = try MemoryDesc.make([outChannels], dnnl_x)
        strides = dims2(stride)
        let left = (kernel - 1) / 2
        padLeft = dims2(left)
        // Right padding such that (H + pl + pr − k)/s + 1 = H/s (rounding down), also for stride 2; the 1×1
        // stride-2 conv needs none (it reads the even rows and columns).
        padRight = dims2(max(0, (ho - 1) * stride + kernel - inputSize - left))
    }

    /// The forward descriptor for `prop` (training or inference), with the bias or without (a zero
    /// descriptor tells oneDNN "no bias").
    func forwardDescriptor(_ prop: dnnl_prop_kind_t, bias withBias: Bool) throws -> dnnl_convolution_desc_t {
        var fd = dnnl_convolution_desc_t()
        var s = opSrc, w = weightsAny, b = withBias ? bias : dnnl_memory_desc_t(), d = opDst
        try withPadding { sp, pl, pr in
            try dnnlCheck(dnnl_convolution_forward_desc_init(&fd, prop, dnnl_convolution_direct, &s, &w, &b, &d, sp, pl, pr),
                          "dnnl_convolution_forward_desc_init")
        }
        return fd
    }

    /// The engine plan's key for `pass` over this geometry (`ConvImplementation.key`).
    func planKey(_ pass: ConvImplementation.Pass, bias: Bool, variant: [String] = []) -> String {
        ConvImplementation.key(pass, batch: batch, inChannels: inChannels, outChannels: outChannels, inputSize: inputSize,
                               stride: stride, kernel: kernel, bias: bias,
                               variant: (plainInput ? ["plain"] : []) + (libraryLayout ? ["library-layout"] : []) + variant)
    }

    /// Calls `body` with the strides and the left and right padding, as oneDNN's descriptor initialisers take them.
    func withPadding(_ body: (UnsafePointer<dnnl_dim_t>, UnsafePointer<dnnl_dim_t>, UnsafePointer<dnnl_dim_t>) throws -> Void) rethrows {
        var (s, l, r) = (strides, padLeft, padRight)
        try withDims(&s, &l, &r, body)
    }
}

private func withDims(_ a: inout dnnl_dims_t, _ b: inout dnnl_dims_t, _ c: inout dnnl_dims_t,
              _ body: (UnsafePointer<dnnl_dim_t>, UnsafePointer<dnnl_dim_t>, UnsafePointer<dnnl_dim_t>) throws -> Void) rethrows {
    try withUnsafePointer(to: &a) { pa in
        try withUnsafePointer(to: &b) { pb in
            try withUnsafePointer(to: &c) { pc in
                try pa.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { a1 in
                    try pb.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { b1 in
                        try pc.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { c1 in try body(a1, b1, c1) }
                    }
                }
            }
        }
    }
}

private func dims2(_ v: Int) -> dnnl_dims_t {
    let x = dnnl_dim_t(v)
    return (x, x, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

extension ConvGeometry {
    /// The geometry and forward primitive this CPU runs: over the engine's layout when oneDNN has a
    /// kernel for it, else over the layout oneDNN chooses (`ConvLayoutChoice`). `geometry(libraryLayout)`
    /// makes the geometry, `forward` the primitive from it.
    static func chooseLayout(_ geometry: (Bool) throws -> ConvGeometry,
                             forward: (ConvGeometry) throws -> DNNLPrimitive) throws -> (ConvGeometry, DNNLPrimitive) {
        let engine = try geometry(false)
        let primitive = try forward(engine)
        guard ConvLayoutChoice.letLibraryChoose(referenceImplementation: primitive.implementation) else { return (engine, primitive) }
        let library = try geometry(true)
        return (library, try forward(library))
    }
}
