import Tensor
@testable import NN

/// One convolution shape's random inputs with its Float64 reference passes, and each pass of a
/// `ConvPrimitives` run on them: what the fast-layer and engine-plan tests compare.
struct ConvolutionCase {
    enum Pass { case forward, backwardData, backwardWeights }

    let B = 2, Ci: Int, Co: Int, H: Int, stride: Int, bias: Bool, stem: Bool
    let x: [Double], w: [Double], b: [Double], dy: [Double]
    var yRef: [Double] = [], dxRef: [Double] = [], dwRef: [Double] = [], dbRef: [Double] = []

    init(_ Ci: Int, _ Co: Int, _ H: Int, stride: Int, bias: Bool, stem: Bool = false) {
        (self.Ci, self.Co, self.H, self.stride, self.bias, self.stem) = (Ci, Co, H, stride, bias, stem)
        x = randomDoubles(B * Ci * H * H, seed: 1)
        w = randomDoubles(Co * Ci * 9, seed: 2, scale: 0.2)
        b = randomDoubles(Co, seed: 3)
        dy = randomDoubles(B * Co * (H / stride) * (H / stride), seed: 4)
        Reference.convForward(&yRef, x, w, bias ? b : nil, B, Ci, H, H, Co, stride)
        Reference.convBackward(&dxRef, &dwRef, &dbRef, dy, x, w, B, Ci, H, H, Co, stride)
    }

    var tag: String { "conv \(Ci)→\(Co) \(H)×\(H) s\(stride)\(bias ? " bias" : "")\(stem ? " plain input" : "")" }
    /// The passes a network runs for this shape: no data gradient into the images.
    var passes: [Pass] { stem ? [.forward, .backwardWeights] : [.forward, .backwardWeights, .backwardData] }

    func primitives(_ ctx: DNNLContext) throws -> ConvPrimitives {
        try ConvPrimitives(context: ctx, batch: B, inChannels: Ci, outChannels: Co, inputSize: H, stride: stride,
                           hasBias: bias, plainInput: stem, needsDataGradient: !stem)
    }

    /// Runs `pass` on `prim` and returns (what, fast, reference) for each array it produces.
    func run(_ pass: Pass, on prim: ConvPrimitives) throws -> [(String, [Double], [Double])] {
        let Ho = H / stride
        let xb = stem ? FloatBuffer(x.map(Float.init)) : blocked(x, B: B, C: Ci, HW: H * H)
        let wb = FloatBuffer(w.map(Float.init)), bb = FloatBuffer(b.map(Float.init))
        let dyb = blocked(dy, B: B, C: Co, HW: Ho * Ho), scratch = FloatBuffer(count: max(prim.scratchCount, 1))
        // The buffers must outlive the calls that use their pointers.
        defer { withExtendedLifetime((xb, wb, bb, dyb, scratch)) {} }
        switch pass {
        case .forward:
            let yb = FloatBuffer(count: B * Co * Ho * Ho)
            try prim.runForward(src: xb.pointer, weights: wb.pointer, bias: bias ? bb.pointer : nil, dst: yb.pointer, scratch: scratch.pointer)
            return [("forward", unblocked(yb, B: B, C: Co, HW: Ho * Ho), yRef)]
        case .backwardData:
            let dxb = FloatBuffer(count: x.count)
            try prim.runBackwardData(diffDst: dyb.pointer, weights: wb.pointer, diffSrc: dxb.pointer, scratch: scratch.pointer)
            return [("backward-data", unblocked(dxb, B: B, C: Ci, HW: H * H), dxRef)]
        case .backwardWeights:
            let dwb = FloatBuffer(count: w.count), dbb = FloatBuffer(count: Co)
            try prim.runBackwardWeights(src: xb.pointer, diffDst: dyb.pointer, diffWeights: dwb.pointer,
                                        diffBias: bias ? dbb.pointer : nil, scratch: scratch.pointer)
            let weights = ("backward-weights", dwb.array.map(Double.init), dwRef)
            return bias ? [weights, ("backward-bias", dbb.array.map(Double.init), dbRef)] : [weights]
        }
    }
}
