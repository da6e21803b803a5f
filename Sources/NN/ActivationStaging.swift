import CDNNL
import Foundation
import Tensor

/// One activation argument of a convolution whose primitive wants another layout than the engine keeps.
/// The engine's activations are blocked by 16 or 8 channels (`Blocked.block`, chosen by the engine plan).
/// oneDNN 2.6 has JIT convolutions over nChw16c only on AVX-512 machines; on an AVX2 machine it falls back to its
/// reference kernels (`ref:any`), about a hundred times slower. There the convolution is created with
/// `format_tag_any` instead, oneDNN picks its AVX2 layout (nChw8c), and this stage holds a buffer in that
/// layout plus the reorders to and from the engine's: a memory-bound copy beside a compute-bound
/// convolution. Where the layouts agree it is a pass-through and nothing is copied.
final class ActivationStaging {
    /// The argument in the engine's layout, re-pointed at each call.
    let user: DNNLMemory
    private let staged: DNNLMemory?
    private let toStaged: DNNLPrimitive?
    private let fromStaged: DNNLPrimitive?
    private let storage: UnsafeMutableRawPointer?
    private let context: DNNLContext

    /// `reads`: the primitive reads the argument (reorder in before it runs); `writes`: it writes it
    /// (reorder out after).
    init(engine engineMD: dnnl_memory_desc_t, primitive primitiveMD: dnnl_memory_desc_t, reads: Bool, writes: Bool,
         context: DNNLContext) throws {
        self.context = context
        user = try DNNLMemory(engineMD, context, pointer: nil)
        guard !MemoryDesc.equal(engineMD, primitiveMD) else {
            staged = nil; toStaged = nil; fromStaged = nil; storage = nil
            return
        }
        let bytes = MemoryDesc.bytes(primitiveMD)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        storage = buffer
        staged = try DNNLMemory(primitiveMD, context, pointer: buffer)
        toStaged = reads ? try DNNLPrimitive.reorder(from: engineMD, to: primitiveMD, context: context) : nil
        fromStaged = writes ? try DNNLPrimitive.reorder(from: primitiveMD, to: engineMD, context: context) : nil
    }

    deinit { storage?.deallocate() }

    var isStaged: Bool { staged != nil }
    /// Bytes of the staging buffer (0 when the layouts agree).
    var stagedBytes: Int { staged.map { MemoryDesc.bytes($0.desc) } ?? 0 }

    /// Points the argument at `pointer` and returns the memory the primitive should get, reordered into
    /// the primitive's layout first if it reads it.
    func bind(_ pointer: UnsafeMutableRawPointer) throws -> DNNLMemory {
        try user.setPointer(pointer)
        guard let staged else { return user }
        if let r = toStaged { try r.execute(context, [(DNNLArg.from, user), (DNNLArg.to, staged)]) }
        return staged
    }

    /// After the primitive ran: copies a written argument back into the engine's layout.
    func finish() throws {
        guard let staged, let r = fromStaged else { return }
        try r.execute(context, [(DNNLArg.from, staged), (DNNLArg.to, user)])
    }
}

/// Whether oneDNN runs a convolution over the engine's blocked layout with a real kernel on this CPU;
/// when it would fall back to its reference code the engine lets oneDNN choose the layout (see
/// `ActivationStaging`). `BNREPRO_CONV_LAYOUT=engine|any` forces either (for tests and benchmarks).
enum ConvLayoutChoice {
    static func letLibraryChoose(referenceImplementation: String) -> Bool {
        switch ProcessInfo.processInfo.environment["BNREPRO_CONV_LAYOUT"] {
        case "engine": return false
        case "any": return true
        default: return referenceImplementation.hasPrefix("ref")
        }
    }
}
