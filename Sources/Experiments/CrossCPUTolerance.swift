import Pipeline

// The analyses at initialisation compute one forward (and backward) pass of a network whose weights
// come from the seeded generator, or random-matrix algebra: no training step amplifies a difference in
// the last bits, so a result computed on another CPU (other SIMD paths in oneDNN and OpenBLAS) should
// agree to far better than 1e-3 relative. Training and the searches built on it are chaotic and keep
// the default (no tolerance). See `StageKind.crossCPUTolerance`.
private let initialisationTolerance = 1e-3

extension InitStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension GradientHistogramStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension ChannelMomentsStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension OutputGradientsStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension GradientCoherenceStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension CalibrationStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension JacobianSpectrumStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension RandomMatricesStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
extension ProductConditioningStage { public var crossCPUTolerance: Double? { initialisationTolerance } }
