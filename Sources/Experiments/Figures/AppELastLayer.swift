import Foundation
import NN
import Pipeline
import Plot

/// Appendix E (recalled): a ResNet with one BN, on the last residual block's output, against the
/// unnormalised net and full BN, each at the initial rate a `rate-choice` stage chose for it on a
/// validation split (the paper reports each at its best rate): test accuracy over training, mean ± std
/// over seeds.
public struct AppELastLayer: FigureRecipe {
    public let id = "appE"
    public let title = "App. E"
    /// 6: "between" decided by Fig. 1's rule (beyond 2 SE, all at plateau).
    /// 7: each net at the rate chosen on validation (`rate-choice`), not the best on the test set.
    public let version = 7
    public let reads = [TrainStage.kindName, MaxStableLRStage.kindName, RateChoiceStage.kindName]

    public init() {}

    struct Group {
        let label: String
        let color: Color
        let runs: [TrainMetrics]
        let choice: RateChoice
        var final: SeededAccuracy { runs.finalTestAccuracy }
        var rate: Double { choice.chosen?.learningRate ?? .nan }
    }

    /// Full BN, the last-layer net and the unnormalised net, each at its chosen rate.
    static func groups(_ context: StageContext) throws -> (bn: Group?, last: Group?, none: Group?) {
        let runs = try context.results(of: TrainStage.self)
        let choices = try context.results(of: RateChoiceStage.self).map(\.result)
        func group(_ n: Normalization, _ name: String, _ color: Color) -> Group? {
            guard let choice = choices.first(where: { $0.normalization == n }), let rate = choice.chosen else { return nil }
            let members = runs.filter { rate.stages.contains($0.input.stage) }.map(\.result)
            let others = choice.rates.filter { $0.learningRate != rate.learningRate }.map { Fig1Accuracy.rateText($0.learningRate) }
            let how = others.isEmpty ? "" : " of \(([Fig1Accuracy.rateText(rate.learningRate)] + others).sorted().joined(separator: ", ")) on validation"
            return Group(label: "\(name), lr=\(Fig1Accuracy.rateText(rate.learningRate))\(how)\(choice.chosenAtPlateau ? "" : " (none at plateau)")",
                         color: color, runs: members, choice: choice)
        }
        return (group(.batchNorm, "with BN", .tabOrange), group(.lastLayerOnly, "BN at the last layer only", .tabPurple),
                group(.none, "w/o BN", .tabRed))
    }

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let g = try Self.groups(context)
        var panel = Panel(x: Axis(label: "% of training", limits: .fixed(0, 100)), y: Axis(label: "test accuracy"))
        panel.legend = .best
        for group in [g.bn, g.last, g.none].compactMap({ $0 }) {
            guard let curve = TrainCurve(group.runs, \.testAccuracy) else {
                panel.plot([], [], label: "\(group.label): diverged in all \(group.runs.count) runs", color: group.color, dash: .dashed)
                continue
            }
            let epochs = Set(group.runs.map(\.epochs)).sorted().map(String.init).joined(separator: "/")
            panel.plotWithBand(curve.percentOfTraining, mean: curve.mean, spread: curve.spread, label: "\(group.label), \(epochs) ep", color: group.color)
        }
        // The caption states the whole budget (issue 21), which at quick runs to about 160 characters.
        var fig = Figure(width: 15, height: 4.8, dpi: 150)
        fig.style.figureTitleFontSize = 11
        let lines = [g.bn, g.last, g.none].compactMap { $0 }.map(\.runs)
        let drops = Set(try context.inputs(of: TrainStage.self).map { try $0.params(TrainStage.Params.self).drops })
        fig.title = RichText(Fig1Accuracy.caption(lines: lines, drops: drops))
        fig[0, 0] = panel
        return [("appE-last-layer", fig)]
    }

    public func claims(_ context: StageContext) throws -> [Claim] {
        let g = try Self.groups(context)
        guard let last = g.last else { return [] }
        let source = "paper-notes §1.2 [RECALL App. E; TXT 395t]"
        var claims: [Claim] = []
        let rate = last.rate, depth = last.runs.first?.depth ?? 0
        let noBNSearch = try context.results(of: MaxStableLRStage.self).map(\.result)
            .first { $0.normalization == .none && $0.depth == depth }
        let noBNFails = noBNSearch.map { s in s.largestStableLr.map { rate > $0 } ?? true } ?? false
        let lastTrains = last.runs.allSatisfy { !$0.diverged }
        claims.append(Claim(id: "appe.trains-where-nobn-fails", figure: "App. E",
                            statement: "with BN at the last layer only, the net trains at a rate where the unnormalised net does not",
                            paper: "up to 0.03, vs 0.0001 without BN", source: source,
                            ours: String(format: "lr %.3g: %d of %d runs trained; w/o BN the largest stable rate at ResNet-%d is %@", rate,
                                         last.runs.filter { !$0.diverged }.count, last.runs.count, depth,
                                         noBNSearch.map { $0.largestStableLr.map { String(format: "%.3g", $0) } ?? "below the grid" } ?? "not searched"),
                            test: "no run diverges, and the rate is above w/o BN's largest stable rate", verdict: Claim.verdict(lastTrains && noBNFails)))
        if let bn = g.bn, let none = g.none {
            // Fig. 1's rule (issue 22, item 3): each comparison decided beyond 2 combined SE, and only
            // between runs at their plateau; otherwise it compares speeds and is inconclusive.
            let (a, b, c) = (none.final, last.final, bn.final)
            let closed = c.mean > a.mean ? (b.mean - a.mean) / (c.mean - a.mean) : .nan
            let both = NoisyVerdict.every([NoisyVerdict.greater(b, than: a), NoisyVerdict.greater(c, than: b)])
            let unfinished = [(none, "w/o BN"), (last, "last layer only"), (bn, "full BN")].filter { !$0.0.runs.allAtPlateau }.map(\.1)
            let budget = "each at the rate chosen on \(last.choice.validationImages) validation images held out of the training set: "
                + [bn, last, none].map { "\($0.choice.normalization.rawValue) lr \(Fig1Accuracy.rateText($0.rate)), \(Set($0.runs.map(\.epochs)).sorted().map(String.init).joined(separator: "/")) epochs" }
                    .joined(separator: "; ")
            claims.append(Claim(id: "appe.between", figure: "App. E",
                                statement: "with BN at the last layer only, the net ends between the unnormalised net and full BN (final test accuracy), all at their plateau",
                                paper: "90.1 % between 82 % and 93.2 %: about two-thirds of BN's gain", source: source,
                                ours: "\(b.text) between \(a.text) and \(c.text): "
                                    + String(format: "%.0f %% of the gap", 100 * closed),
                                test: "w/o BN < last layer < full BN, each margin > 2 combined SE, all at plateau",
                                verdict: unfinished.isEmpty ? both : .inconclusive,
                                note: unfinished.isEmpty ? budget
                                    : "not at plateau: \(unfinished.joined(separator: ", ")); a comparison of unfinished runs decides nothing; " + budget))
        }
        return claims
    }
}
