import Pipeline

/// Every stage kind `bnrepro` knows.
public enum ExperimentKinds {
    /// Every figure recipe, by id.
    public static let figureRecipes: [any FigureRecipe] = [
        Fig1Accuracy(), Fig2GradientHistograms(), Fig3RelativeLoss(), Fig3FirstSteps(), Fig4DivergingUpdate(), Fig5ChannelMoments(),
        Fig6OutputGradients(), Fig7ChannelGradientMap(), Fig8RandomMatrixHistograms(), Fig9FussCatalanDensity(), CalibrationScores(),
        AppHStableRates(), AppELastLayer(), AppKConditioning(),
    ]

    public static var registry: KindRegistry {
        var registry = KindRegistry([
            DownloadStage(), CIFAR10DecodeStage(), FigureStage(recipes: figureRecipes),
            // Analyses at initialisation.
            InitStage(), GradientHistogramStage(), ChannelMomentsStage(), OutputGradientsStage(),
            GradientCoherenceStage(), RandomMatricesStage(), CalibrationStage(),
            ProductConditioningStage(), JacobianSpectrumStage(),
            // Training and the first steps.
            TrainStage(), MaxStableLRStage(), RelativeLossStage(), FirstStepsStage(), DivergingUpdateStage(),
            DivergingUpdateChoiceStage(), RateChoiceStage(),
            ClaimsStage(),
        ])
        registry.measureSecondsPerWorkUnit = { try? EngineCalibration.secondsPerImageLayer(threads: $0) }  // the work unit is the image-layer
        registry.engineSetup = EnginePlanSetup.setup
        registry.sourceDigest = { kind, params in KindSourceLock.entries[KindSourceLock.key(kind: kind, params: params)]?.digest }
        return registry
    }
}
