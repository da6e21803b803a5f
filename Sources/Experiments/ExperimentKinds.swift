import Pipeline

/// Every stage kind `bnrepro` knows.
public enum ExperimentKinds {
    public static var registry: KindRegistry {
        KindRegistry([])
    }
}
