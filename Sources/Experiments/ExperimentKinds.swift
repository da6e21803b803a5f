import Pipeline

/// Every stage kind `bnrepro` knows.
public enum ExperimentKinds {
    /// Every figure recipe, by id.
    public static let figureRecipes: [any FigureRecipe] = [Fig1Accuracy(), Fig3RelativeLoss(), Fig4DivergingUpdate()]

    public static var registry: KindRegistry {
        KindRegistry([DownloadStage(), CIFAR10DecodeStage(), FigureStage(recipes: figureRecipes),
                      TrainStage(), RelativeLossStage(), DivergingUpdateStage()])
    }
}
