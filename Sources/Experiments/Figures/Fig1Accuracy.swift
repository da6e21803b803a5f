import Foundation
import Pipeline
import Plot

/// Fig. 1: train (left) and test (right) accuracy against % of training for every training
/// configuration, mean over seeds with a ± one standard deviation band (population std, numpy's
/// default). Colours and legend order follow the paper; a diverged run is left out of its mean and
/// named in the legend, as the paper leaves out the unnormalised network at large rates. The title
/// states the budget that was actually trained, read from the runs themselves.
public struct Fig1Accuracy: FigureRecipe {
    public let id = "fig1"
    public let title = "Fig. 1"
    /// 9: claim 4 at the paper's scale (`fig1.nobn-small-rate-learns`, ResNet-110 runs only). 10: the
    /// paper's final accuracies drawn at 100 %. 12: one legend under both panels, off the curves, and
    /// which CIFAR-10 archive the runs trained on (a `download` stage among the deps).
    public let version = 12
    public let reads = [TrainStage.kindName]

    public init() {}

    struct Configuration: Hashable { var bn: Bool; var lr: Double }

    /// The paper's legend order and colours by role (matplotlib's cycle in that order): BN at 0.003, BN at
    /// the large rate, BN and no BN at the small rate (the paper's 1e-4, or the rate the search found),
    /// then what the paper leaves out: no BN at the large rate.
    static func order(_ runs: [Configuration: [TrainMetrics]]) -> [(Configuration, Color)] {
        let large = runs.keys.filter(\.bn).map(\.lr).max() ?? 0.1
        let small = runs.keys.filter { !$0.bn && $0.lr < large }.map(\.lr).max() ?? 0.0001
        let roles: [(Configuration, Color)] = [
            (Configuration(bn: true, lr: 0.003), .tabBlue), (Configuration(bn: true, lr: large), .tabOrange),
            (Configuration(bn: true, lr: small), .tabGreen), (Configuration(bn: false, lr: small), .tabRed),
            (Configuration(bn: false, lr: large), .cycle(4)),
        ]
        var seen = Set<Configuration>()
        let known = roles.filter { runs[$0.0] != nil && seen.insert($0.0).inserted }
        let extra = runs.keys.filter { !seen.contains($0) }.sorted { ($0.bn ? 0 : 1, -$0.lr) < ($1.bn ? 0 : 1, -$1.lr) }
        return known + extra.enumerated().map { ($1, Color.cycle(5 + $0)) }
    }

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let (runs, drops, searched, probes) = try Self.runs(context)
        let order = Self.order(runs)
        // Runs of different lengths share the x-axis (% of training): the legend says each one's epochs.
        let epochs = Set(runs.values.flatMap { $0.map(\.epochs) })

        // The caption states the whole budget (issue 21), which at quick runs to about 160 characters.
        var fig = Figure(width: 15, height: 4.6, dpi: 150, rows: 1, columns: 2)
        fig.style.figureTitleFontSize = 11
        // The legend is as wide as a panel: under both panels it covers no curve and is not drawn twice.
        fig.sharedLegend = true
        fig.title = RichText(Self.caption(lines: Array(runs.values), drops: drops))
        let probeLines = Self.probeLines(probes), data = CIFAR10Archive.description(context)
        for (column, (label, accuracy)) in [("train accuracy", \TrainEvaluation.trainAccuracy),
                                            ("test accuracy", \TrainEvaluation.testAccuracy)].enumerated() {
            var panel = Panel(x: Axis(label: "% of training", limits: .fixed(0, 100)), y: Axis(label: RichText(label)))
            for (config, color) in order {
                let all = runs[config] ?? []
                var name = "lr=\(Self.rateText(config.lr)) (\(config.bn ? "with" : "w/o") BN)"
                if searched.contains(config) { name += ", searched" }
                if epochs.count > 1, let e = all.first?.epochs { name += ", \(e) ep" }
                guard let curve = TrainCurve(all, accuracy) else {
                    // Nothing to draw: say so in the legend with an empty line, as the paper says it in the caption.
                    panel.plot([], [], label: "\(name): diverged in all \(all.count) runs, not shown", color: color, dash: .dashed)
                    continue
                }
                var suffix = curve.left > 0 ? " (\(curve.left) of \(all.count) runs diverged, not shown)" : ""
                // The plateau: every run of the configuration reached the clean training accuracy its params asked for.
                let atPlateau = all.filter(\.reachedPlateau).count
                if atPlateau < all.count { suffix += atPlateau == 0 ? ", not at plateau" : ", \(atPlateau) of \(all.count) at plateau" }
                panel.plotWithBand(curve.percentOfTraining, mean: curve.mean, spread: curve.spread, label: name + suffix, color: color)
            }
            // The paper's final accuracies as faint crosses at the end, in the colours of the runs playing the
            // same role (its small rate, 1e-4, is ours the search found), so a reader compares end points.
            let colours = [Color.tabBlue, .tabOrange, .tabGreen, .tabRed]
            for (i, paper) in PaperNumbers.fig1Final.enumerated() {
                panel.points([99], [100 * (column == 0 ? paper.train : paper.test)],
                             label: i == 0 ? "×: the paper's final accuracies (ResNet-110, 50,000 images; BN 0.003, 0.1, 1e-4; w/o BN 1e-4), same colours" : nil,
                             color: colours[i].withAlpha(0.5), marker: .cross, size: 7)
            }
            // The probes are not curves: the legend names them and says how they ended, as for a run that diverged.
            for line in probeLines { panel.plot([], [], label: line, color: .gray, dash: .dotted) }
            if let data { panel.plot([], [], label: data, color: .gray, width: 0) }
            fig[0, column] = panel
        }
        return [("fig1-accuracy", fig)]
    }

    /// The training runs by configuration, the sets of drop fractions they used, the configurations
    /// whose rate a search chose, and the probes (`curve: false`), which only the claims read.
    static func runs(_ context: StageContext) throws
        -> (runs: [Configuration: [TrainMetrics]], drops: Set<[Double]>, searched: Set<Configuration>, probes: [TrainMetrics]) {
        let results = try context.results(of: TrainStage.self)
        guard !results.isEmpty else {
            throw PipelineError.badParameter(stage: context.stage, parameter: "deps", problem: "fig1 needs train stages among its deps")
        }
        var runs: [Configuration: [TrainMetrics]] = [:]
        var drops: Set<[Double]> = [], searched: Set<Configuration> = [], probes: [TrainMetrics] = []
        for (input, m) in results {
            let params = try input.params(TrainStage.Params.self)
            if !params.curve {
                probes.append(m)
                continue
            }
            let config = Configuration(bn: m.normalization == .batchNorm, lr: m.learningRate)
            runs[config, default: []].append(m)
            drops.insert(params.drops)
            if params.lr == .searched { searched.insert(config) }
        }
        return (runs, drops, searched, probes.sorted { ($0.depth, $0.learningRate, $0.seed) < ($1.depth, $1.learningRate, $1.seed) })
    }

    /// "ResNet-110 w/o BN, lr=0.1, 200 steps: 2 of 2 diverged (not drawn)" (claim 3's probe), one line per group.
    static func probeLines(_ probes: [TrainMetrics]) -> [String] {
        let groups = Dictionary(grouping: probes) { ProbeGroup(depth: $0.depth, bn: $0.normalization == .batchNorm, lr: $0.learningRate) }
        return groups.keys.sorted { ($0.depth, $0.lr) < ($1.depth, $1.lr) }.map { g in
            let all = groups[g] ?? [], diverged = all.filter(\.diverged).count
            let steps = Set(all.map(\.totalSteps)).sorted().map(String.init).joined(separator: "/")
            return "ResNet-\(g.depth) \(g.bn ? "with" : "w/o") BN, lr=\(rateText(g.lr)), \(steps) steps: \(diverged) of \(all.count) diverged (not drawn)"
        }
    }

    struct ProbeGroup: Hashable { var depth: Int; var bn: Bool; var lr: Double }

    static func rateText(_ lr: Double) -> String {
        var s = String(format: "%.6f", lr)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// "ResNet-20 on 10000 train / 2000 test images (subsets; final on 10000), 10 epochs, lr ÷10 at 50 % and 75 %; 2 seeds, mean ± std; 1 of 2 runs at plateau",
    /// over the runs of every drawn line (`lines`, one array per line).
    static func caption(lines: [[TrainMetrics]], drops: Set<[Double]>) -> String {
        let runs = lines.flatMap { $0 }
        func values<T: Hashable & Comparable>(_ f: (TrainMetrics) -> T) -> [T] { Array(Set(runs.map(f))).sorted() }
        func list<T: Hashable & Comparable>(_ f: (TrainMetrics) -> T, _ show: (T) -> String) -> String {
            values(f).map(show).joined(separator: "/")
        }
        // Lines may have their own seed counts (no BN at 0.1 has more at quick).
        let perLine = Set(lines.filter { !$0.isEmpty }.map(\.count))
        let seeds = perLine.count <= 1 ? "\(perLine.first ?? 0) seed\(perLine.first == 1 ? "" : "s")"
            : "\(perLine.min()!)–\(perLine.max()!) seeds per line"
        let dropText = drops.count == 1
            ? drops.first.map { "lr ÷10 at " + $0.map { String(format: "%g %%", 100 * $0) }.joined(separator: " and ") } ?? ""
            : "lr drops differ between runs"
        // CIFAR-10 has 50,000 training and 10,000 test images; fewer means a class-stratified subset.
        let subset = runs.contains { $0.trainImages < 50_000 || $0.testImages < 10_000 } ? "subsets" : ""
        let finalTest = Set(runs.compactMap { $0.endpoint?.testImages }).sorted().map(String.init).joined(separator: "/")
        let plateau = runs.filter(\.reachedPlateau).count
        let notes = [subset, finalTest.isEmpty ? "" : "final on \(finalTest)"].filter { !$0.isEmpty }.joined(separator: "; ")
        return "ResNet-\(list({ $0.depth }, String.init)) on \(list({ $0.trainImages }, String.init)) train / "
            + "\(list({ $0.testImages }, String.init)) test images" + (notes.isEmpty ? "" : " (\(notes))")
            + ", \(list({ $0.epochs }, String.init)) epochs, \(dropText); "
            + "\(seeds), mean ± std; \(plateau) of \(runs.count) runs at plateau"
    }
}
