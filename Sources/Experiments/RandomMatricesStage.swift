import Foundation
import Pipeline
import Statistics
import Tensor

/// `random-matrices` (Figs. 8, 9): singular values of products of M independent N×N Gaussian matrices
/// with N(0, 1/N) entries, M in `products` (1, 3, 5), `repeats` draws each, pooled; and the limiting
/// density of Theorem 1 (`FussCatalan`) for the same M.
///
/// Decisions: entries are N(0, 1/N) (paper-notes §5: the plotted supports end at √((M+1)^{M+1}/M^M),
/// 2.00, 3.08 and 3.86, which standard Gaussians would not give). The entries are Philox float32
/// normals; products and singular values are computed in float64 (dgemm, dgesdd), so that the smallest
/// singular values and the condition numbers in metrics.json are not float32 rounding (a float32
/// product moves every singular value by about 10⁻⁶; M = 5 has values near 10⁻¹⁰). Each M histograms its own
/// pooled values in `bins` equal bins over [0, max], as the paper's panels; the theory's expected count
/// per bin (total × probability of the bin) is written beside each, so Fig. 8 can overlay it.
///
/// Outputs: `singular-values.npy` (float64 [products, repeats·N], descending within each draw),
/// `random-matrices.json` (per M: edges, counts, expected counts, the density curves of x = s² and of s,
/// and the largest and smallest values, mean s², condition number, KS distance), `claims.json`.
public struct RandomMatricesStage: AnalysisKind, ParameterizedKind {
    public static let kindName = "random-matrices"
    public static let singularValuesNPY = "singular-values.npy"
    public let version = 3
    public struct Params: StageParams {
        @Param("matrix dimension N") public var size = 1000
        @Param("numbers of matrices multiplied") public var products = [1, 3, 5]
        @Param("independent products per M; singular values are pooled") public var repeats = 10
        @Param("histogram bins per M") public var bins = 50
        @Param(philoxSeedHelp) public var seed = 0
        @Param("points per theoretical density curve") public var theoryPoints = 1000

        public init() {}
    }

    static let philoxSeedHelp = "Philox seed of the matrices"

    public init() {}

    public struct MatrixHistogram: Codable, Sendable {
        public let products: Int
        public let edges: [Double]
        public let counts: [Double]
        /// Total × P(bin) under the limiting density.
        public let expected: [Double]
    }

    public struct TheoryCurve: Codable, Sendable {
        public let products: Int
        public let maxSingular: Double
        public let x: [Double]
        public let densityX: [Double]
        public let s: [Double]
        public let densityS: [Double]
    }

    public struct Result: Codable, Sendable {
        public let size: Int
        public let repeats: Int
        public let histograms: [MatrixHistogram]
        public let theory: [TheoryCurve]
        public let metrics: [ProductMetrics]
    }

    public struct ProductMetrics: Codable, Sendable {
        public let products: Int
        public let largestMean: Double
        public let theoreticalEdge: Double
        public let smallest: Double
        /// Mean of s² (1 in expectation: E‖X‖²_F / N = 1).
        public let meanSquare: Double
        public let medianConditionNumber: Double
        /// Kolmogorov–Smirnov distance between the pooled values and the limiting law.
        public let ksDistance: Double
        public let theoryMass: Double
    }

    public func run(_ context: StageContext, _ params: Params) throws {
        let started = Date()
        let n = params.size, products = params.products, repeats = params.repeats
        let bins = params.bins, points = params.theoryPoints
        let rng = Philox(seed: UInt64(params.seed))
        for (name, ok) in [("size", n >= 2), ("repeats", repeats >= 1), ("bins", bins >= 1), ("theoryPoints", points >= 2),
                           ("products", !products.isEmpty && products.allSatisfy { $0 >= 1 })] where !ok {
            throw PipelineError.badParameter(stage: context.stage, parameter: name, problem: "must be positive")
        }
        var pooled: [Double] = [], histograms: [MatrixHistogram] = [], theory: [TheoryCurve] = [], metrics: [ProductMetrics] = []
        var done = 0
        for (p, m) in products.enumerated() {
            var values: [Double] = [], largest: [Double] = [], conditions: [Double] = []
            for r in 0..<repeats {
                // Every draw has its own Philox sub-stream, so a (M, repeat) pair is reproducible alone.
                let stream = rng.substream(UInt64(p * 1_000_000 + r))
                let x = Self.product(of: m, size: n, rng: stream)
                let s = try singularValues(x, rows: n, cols: n)
                try AnalysisIO.requireFinite(s, "singular values (M = \(m), repeat \(r))", in: context)
                values += s
                largest.append(s.first ?? 0)
                conditions.append((s.first ?? 0) / max(s.last ?? 0, .leastNormalMagnitude))
                done += 1
                context.progress("M = \(m): product \(r + 1)/\(repeats)", fraction: Double(done) / Double(products.count * repeats))
            }
            pooled += values
            let law = FussCatalan(products: m)
            let hi = values.max() ?? law.maxSingular
            let binned = EqualWidthBins(values, bins: bins, range: 0...hi), edges = binned.edges
            let cdf = law.cumulative(atSingularValues: edges)
            let total = Double(values.count)
            let expected = (0..<bins).map { total * (cdf[$0 + 1] - cdf[$0]) }
            histograms.append(MatrixHistogram(products: m, edges: edges, counts: binned.counts, expected: expected))
            let curve = law.curve(points: points)
            theory.append(TheoryCurve(products: m, maxSingular: law.maxSingular, x: curve.x, densityX: curve.densityX,
                                      s: curve.s, densityS: curve.densityS))
            let sorted = values.sorted()
            let ks = zip(sorted.indices, law.cumulative(atSingularValues: sorted)).map { i, f in
                max(abs(Double(i + 1) / total - f), abs(Double(i) / total - f))
            }.max() ?? 0
            let metric = ProductMetrics(products: m, largestMean: largest.reduce(0, +) / Double(repeats), theoreticalEdge: law.maxSingular,
                                        smallest: sorted.first ?? 0, meanSquare: values.reduce(0) { $0 + $1 * $1 } / total,
                                        medianConditionNumber: conditions.sorted()[conditions.count / 2], ksDistance: ks,
                                        theoryMass: law.totalMass())
            metrics.append(metric)
            print(String(format: "M = %d: %d singular values, largest %.3f (theory edge %.3f), smallest %.2e, mean s² %.4f, "
                         + "median condition number %.3g, KS distance to Theorem 1 %.4f, theory mass %.5f", m, values.count,
                         metric.largestMean, metric.theoreticalEdge, metric.smallest, metric.meanSquare, metric.medianConditionNumber,
                         metric.ksDistance, metric.theoryMass))
        }
        try AnalysisIO.writeNPY(pooled, shape: [products.count, repeats * n], to: context.output(Self.singularValuesNPY))
        let result = Result(size: n, repeats: repeats, histograms: histograms, theory: theory, metrics: metrics)
        try context.write(result, of: Self.self, claims: Self.claims(result))
        print(String(format: "%d SVDs of %d×%d in %.1f s", products.count * repeats, n, n, Date().timeIntervalSince(started)))
    }

    /// A₁·A₂·…·A_M with N(0, 1/N) entries, row-major float64 N×N.
    static func product(of m: Int, size n: Int, rng: Philox) -> [Double] {
        let std = Float(1 / Double(n).squareRoot())
        return multiply((0..<max(m, 1)).map { rng.substream(UInt64($0)).normal(count: n * n, std: std).map(Double.init) }, size: n)
    }

    /// The product of row-major N×N matrices in the order given, formed in float64.
    static func multiply(_ matrices: [[Double]], size n: Int) -> [Double] {
        var x = matrices[0]
        var next = [Double](repeating: 0, count: n * n)
        for a in matrices.dropFirst() {
            x.withUnsafeBufferPointer { px in
                a.withUnsafeBufferPointer { pa in
                    next.withUnsafeMutableBufferPointer { pn in
                        guard let bx = px.baseAddress, let ba = pa.baseAddress, let bn = pn.baseAddress else { return }
                        gemm(m: n, n: n, k: n, a: bx, b: ba, c: bn)
                    }
                }
            }
            swap(&x, &next)
        }
        return x
    }

    /// Figs. 8 and 9's claims (paper-notes §5): the spectra end at √((M+1)^{M+1}/M^M) and the products
    /// grow more ill-conditioned with M.
    static func claims(_ r: Result) -> [Claim] {
        var claims: [Claim] = []
        for m in r.metrics {
            guard let paper = PaperNumbers.singularValueEdges[m.products] else { continue }
            let off = abs(m.largestMean - paper) / paper
            claims.append(Claim(id: "fig8.edge-m\(m.products)", figure: "Fig. 8",
                                statement: "the largest singular value of a product of \(m.products) random \(r.size)×\(r.size) matrices",
                                paper: String(format: "%.2f", paper), source: "paper-notes §5 [INF from the IMG axes, Theorem 1]",
                                ours: String(format: "%.3f (mean of %d draws; %.1f %% off)", m.largestMean, r.repeats, 100 * off),
                                test: "within 3 %", verdict: Claim.verdict(off <= 0.03)))
        }
        let sorted = r.metrics.sorted { $0.products < $1.products }
        let conditions = sorted.map(\.medianConditionNumber)
        if conditions.count >= 2 {
            let grows = zip(conditions, conditions.dropFirst()).allSatisfy { $0 < $1 }
            claims.append(Claim(id: "fig8.conditioning", figure: "Fig. 8",
                                statement: "more factors make the product more ill-conditioned (median condition number by M)",
                                paper: "grows with M", source: "paper-notes §5 [RECALL]",
                                ours: zip(sorted, conditions).map { String(format: "M=%d: %.3g", $0.products, $1) }.joined(separator: ", "),
                                test: "strictly increasing in M", verdict: Claim.verdict(grows)))
        }
        return claims
    }
}
