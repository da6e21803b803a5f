import CDNNL

// Thin owners of oneDNN (C API, v2.6) handles. Each class frees its handle in deinit; nothing else here
// knows about neural networks.

public struct DNNLError: Error, CustomStringConvertible {
    public let call: String
    public let status: dnnl_status_t
    public init(call: String, status: dnnl_status_t) { self.call = call; self.status = status }
    public var description: String {
        "oneDNN call \(call) failed with status \(status.rawValue) (\(DNNLError.name(status))); "
            + "this usually means an unsupported shape/format combination"
    }
    static func name(_ s: dnnl_status_t) -> String {
        switch s {
        case dnnl_out_of_memory: return "out of memory"
        case dnnl_invalid_arguments: return "invalid arguments"
        case dnnl_unimplemented: return "unimplemented"
        case dnnl_runtime_error: return "runtime error"
        default: return "status \(s.rawValue)"
        }
    }
}

@inline(__always)
public func dnnlCheck(_ status: dnnl_status_t, _ call: @autoclosure () -> String) throws {
    if status != dnnl_success { throw DNNLError(call: call(), status: status) }
}

/// Argument indices of dnnl_primitive_execute (mirrors DNNL_ARG_* macros from dnnl_types.h).
public enum DNNLArg {
    public static let src: Int32 = 1
    public static let dst: Int32 = 17
    public static let weights: Int32 = 33
    public static let bias: Int32 = 41
    public static let mean: Int32 = 49
    public static let variance: Int32 = 50
    public static let scale: Int32 = 51
    public static let shift: Int32 = 52
    public static let workspace: Int32 = 64
    public static let diffSrc: Int32 = 129
    public static let diffDst: Int32 = 145
    public static let diffWeights: Int32 = 161
    public static let diffBias: Int32 = 169
    public static let diffScale: Int32 = 255
    public static let diffShift: Int32 = 256
    public static let src1: Int32 = 2
    public static let from: Int32 = 1
    public static let to: Int32 = 17
}

/// A CPU engine and an in-order stream: the context every primitive executes in.
public final class DNNLContext: @unchecked Sendable {
    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t

    public init() throws {
        var e: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&e, dnnl_cpu, 0), "dnnl_engine_create")
        guard let engine = e else { throw DNNLError(call: "dnnl_engine_create", status: dnnl_runtime_error) }
        var s: dnnl_stream_t?
        let st = dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue)
        guard st == dnnl_success, let stream = s else {
            dnnl_engine_destroy(engine)
            throw DNNLError(call: "dnnl_stream_create", status: st)
        }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    public func wait() throws { try dnnlCheck(dnnl_stream_wait(stream), "dnnl_stream_wait") }
}

/// Memory descriptors by dims and format tag (f32 only: the engine is float32 throughout).
public enum MemoryDesc {
    public static func make(_ dims: [Int], _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        var d = dnnl_dims_t(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &d) { raw in
            let p = raw.bindMemory(to: dnnl_dim_t.self)
            for (i, v) in dims.enumerated() { p[i] = dnnl_dim_t(v) }
        }
        try dnnlCheck(withUnsafePointer(to: &d) { dp in
            dp.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { p in
                dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), p, dnnl_f32, tag)
            }
        }, "dnnl_memory_desc_init_by_tag(\(dims))")
        return md
    }

    public static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    public static func bytes(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return Int(dnnl_memory_desc_get_size(&md))
    }
}

/// A memory object bound to caller-owned storage (never library-allocated: the arena owns the bytes).
public final class DNNLMemory {
    public let handle: dnnl_memory_t
    public let desc: dnnl_memory_desc_t

    public init(_ desc: dnnl_memory_desc_t, _ context: DNNLContext, pointer: UnsafeMutableRawPointer?) throws {
        var m: dnnl_memory_t?
        var d = desc
        try dnnlCheck(dnnl_memory_create(&m, &d, context.engine, pointer), "dnnl_memory_create")
        guard let h = m else { throw DNNLError(call: "dnnl_memory_create", status: dnnl_runtime_error) }
        handle = h
        self.desc = desc
    }

    deinit { dnnl_memory_destroy(handle) }

    public func setPointer(_ p: UnsafeMutableRawPointer) throws {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, p), "dnnl_memory_set_data_handle")
    }
}

/// The linked oneDNN's version, e.g. "2.6.3".
public var oneDNNVersion: String {
    guard let v = dnnl_version()?.pointee else { return "?" }
    return "\(v.major).\(v.minor).\(v.patch)"
}

/// A primitive descriptor and its primitive. The descriptor is kept for queries (chosen formats,
/// workspace, implementation name).
public final class DNNLPrimitive {
    public let pd: dnnl_primitive_desc_t
    public let primitive: dnnl_primitive_t

    /// Takes ownership of `pd`.
    public init(pd: dnnl_primitive_desc_t) throws {
        var p: dnnl_primitive_t?
        let st = dnnl_primitive_create(&p, pd)
        guard st == dnnl_success, let prim = p else {
            dnnl_primitive_desc_destroy(pd)
            throw DNNLError(call: "dnnl_primitive_create", status: st)
        }
        self.pd = pd
        primitive = prim
    }

    /// Creates the descriptor from an op descriptor (conv, bnorm, eltwise… desc struct).
    public convenience init<Op>(op: inout Op, context: DNNLContext, attr: dnnl_primitive_attr_t? = nil,
                                hint: DNNLPrimitive? = nil) throws {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(withUnsafeMutablePointer(to: &op) { opp in
            dnnl_primitive_desc_create(&pd, UnsafeRawPointer(opp),
                                       attr, context.engine, hint?.pd)
        }, "dnnl_primitive_desc_create(\(Op.self))")
        guard let made = pd else { throw DNNLError(call: "dnnl_primitive_desc_create", status: dnnl_runtime_error) }
        try self.init(pd: made)
    }

    /// Every implementation oneDNN offers for the op descriptor, in its own order of preference (the
    /// first is what `init(op:)` makes), without its reference kernels unless nothing else is offered.
    public static func candidates<Op>(op: inout Op, context: DNNLContext, attr: dnnl_primitive_attr_t? = nil,
                                      hint: DNNLPrimitive? = nil) throws -> [DNNLPrimitive] {
        var it: dnnl_primitive_desc_iterator_t?
        try dnnlCheck(withUnsafeMutablePointer(to: &op) { opp in
            dnnl_primitive_desc_iterator_create(&it, UnsafeRawPointer(opp), attr, context.engine, hint?.pd)
        }, "dnnl_primitive_desc_iterator_create(\(Op.self))")
        guard let iterator = it else { throw DNNLError(call: "dnnl_primitive_desc_iterator_create", status: dnnl_runtime_error) }
        defer { dnnl_primitive_desc_iterator_destroy(iterator) }
        var all: [DNNLPrimitive] = []
        repeat {
            guard let pd = dnnl_primitive_desc_iterator_fetch(iterator) else { break }
            all.append(try DNNLPrimitive(pd: pd))
        } while dnnl_primitive_desc_iterator_next(iterator) == dnnl_success
        let real = all.filter { !$0.implementation.hasPrefix("ref") }
        guard !all.isEmpty else { throw DNNLError(call: "dnnl_primitive_desc_iterator_fetch", status: dnnl_unimplemented) }
        return real.isEmpty ? all : real
    }

    /// A reorder from one layout to another.
    public static func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, context: DNNLContext) throws -> DNNLPrimitive {
        var pd: dnnl_primitive_desc_t?
        var f = from, t = to
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &f, context.engine, &t, context.engine, nil),
                      "dnnl_reorder_primitive_desc_create")
        guard let made = pd else { throw DNNLError(call: "dnnl_reorder_primitive_desc_create", status: dnnl_runtime_error) }
        return try DNNLPrimitive(pd: made)
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }

    public func queryMemoryDesc(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        guard let p = dnnl_primitive_desc_query_md(pd, what, index) else { return dnnl_memory_desc_t() }
        return p.pointee
    }

    public var implementation: String {
        var s: UnsafePointer<CChar>?
        _ = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s)
        guard let c = s else { return "?" }
        return String(cString: c)
    }

    public func execute(_ context: DNNLContext, _ args: [(Int32, DNNLMemory)]) throws {
        let a = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        try dnnlCheck(a.withUnsafeBufferPointer { dnnl_primitive_execute(primitive, context.stream, Int32($0.count), $0.baseAddress) },
                      "dnnl_primitive_execute(\(implementation))")
    }
}
