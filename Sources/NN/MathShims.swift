import Foundation

@inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
@inline(__always) func _logd(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _expf(_ x: Float) -> Float { Foundation.expf(x) }
@inline(__always) func _logf(_ x: Float) -> Float { Foundation.logf(x) }
