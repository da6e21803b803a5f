import Pipeline

/// Every stage kind `bnrepro` knows.
public enum ExperimentKinds {
    /// Every figure recipe, by id.
    public static let figureRecipes: [any FigureRecipe] = [
        // Analyses at initialisation (branch exp1).
        Fig2GradientHistograms(), Fig5ChannelMoments(), Fig6OutputGradients(), Fig7ChannelGradientMap(),
        Fig8RandomMatrixHistograms(), Fig9FussCatalanDensity(),
    ]

    public static var registry: KindRegistry {
        KindRegistry([DownloadStage(), CIFAR10DecodeStage(), FigureStage(recipes: figureRecipes),
                      // Analyses at initialisation (branch exp1).
                      InitStage(), GradientHistogramStage(), ChannelMomentsStage(), OutputGradientsStage(),
                      GradientCoherenceStage(), RandomMatricesStage()])
    }
}
