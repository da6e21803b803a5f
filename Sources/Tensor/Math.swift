import Foundation

// The libm functions the numeric code calls, in one place and under names that do not depend on which
// overloads Foundation exposes on a platform (Philox's Box–Muller, the softmax of the head, the
// Float64 reference layers).
@inline(__always) public func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) public func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) public func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) public func _exp(_ x: Double) -> Double { Foundation.exp(x) }
@inline(__always) public func _expf(_ x: Float) -> Float { Foundation.expf(x) }
@inline(__always) public func _logf(_ x: Float) -> Float { Foundation.logf(x) }
