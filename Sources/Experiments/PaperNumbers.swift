/// The paper's numbers as read off its figures (paper-notes §4, with its tags), in one place: the
/// claims compare against them and the calibration scores the set-up choices by them.
public enum PaperNumbers {
    /// Fig. 1's final accuracies (fractions), the middle of each read-off range (paper-notes §1.3 [IMG]):
    /// ResNet-110 on 50,000 images. Roles as in `Fig1Accuracy.order`: the paper's small rate is 1e-4.
    public static let fig1Final: [(bn: Bool, rate: String, test: Double, train: Double)] = [
        (true, "0.003", 0.9035, 1.0), (true, "0.1", 0.9325, 1.0), (true, "1e-4", 0.813, 0.997), (false, "1e-4", 0.819, 0.997),
    ]
    /// Fig. 4's colour-bar ranges (linear scales; paper-notes §4 Fig. 4 [IMG]) by layer: means, variances.
    public static let fig4Ranges: [Int: (means: String, variances: String)] = [
        8: ("−0.7…1.4", "0…1.0"), 44: ("−3,700…2,700", "0…5.3·10⁶"), 80: ("−3·10⁸…1.8·10⁸", "0…5.5·10¹⁶"),
    ]
    /// The same colour bars as numbers: the largest |mean| (the larger end of the means' bar) and the
    /// largest variance, by layer.
    public static let fig4ColourBarMaxima: [Int: (means: Double, variances: Double)] = [
        8: (1.4, 1.0), 44: (3_700, 5.3e6), 80: (3e8, 5.5e16),
    ]
    /// Fig. 5 [IMG read-offs]: layer → value on the paper's "Log [ magnitude ]" axis, whose base the
    /// paper does not state.
    public static let fig5Layers = [6, 18, 30, 42, 54, 66, 78, 90, 102, 110]
    public static let fig5MeansNoBN = [-1.55, -1.45, -0.28, -0.30, -0.38, 0.75, 1.25, 1.90, 2.85, 3.50]
    public static let fig5StdsNoBN = [-1.27, -1.15, -0.27, -0.25, 0.13, 0.90, 1.42, 2.20, 3.02, 1.97]
    public static let fig5MeansBN = [-0.95, 0.23, 0.53, -0.87, -0.30, 0.12, -1.12, -0.35, 0.02, -0.65]
    public static let fig5StdsBN = [0.07, 0.60, 0.90, 0.03, 0.62, 0.98, -0.02, 0.57, 0.90, -0.87]
    public static let fig5Source = "paper-notes §4 Fig. 5 [IMG read-offs]"

    /// Fig. 2 [INF from the IMG tails]: the BN histogram's std; the no-BN one is ~100× larger [RECALL caption].
    public static let fig2StdBN = 0.013
    public static let fig2StdRatio = 100.0

    /// Fig. 6 [IMG]: without BN one solid column (p ≈ 1 on one class for every image); with BN the
    /// brightest column is about +0.004 = p/128, so p ≈ 0.5.
    public static let fig6MaxProbabilityNoBN = 1.0
    public static let fig6MaxProbabilityBN = 0.5
    /// §4 [RECALL]: outputs "of scale up to about 10²".
    public static let logitScale = 100.0

    /// Fig. 3 [IMG], w/o BN, after 3 and 6 steps at 1e-4: the step along the gradient at which the relative
    /// loss passes 10⁶ on mini-batches 4 and 7 ("exceeds 10⁶ by s ≈ 4e-3 (mini-batch 4) and ≈ 6e-3 (mini-batch 7)").
    public static let fig3ExplosionSteps: [Int: Double] = [4: 4e-3, 7: 6e-3]
    public static let fig3ExplosionRatio = 1e6

    /// Figs. 8 and 9 [INF, strongly supported]: the support edges √((M+1)^(M+1)/M^M) for M = 1, 3, 5.
    public static let singularValueEdges: [Int: Double] = [1: 2.0, 3: 3.08, 5: 3.86]
}
