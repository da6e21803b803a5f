import Foundation
import NN
import Pipeline
import Plot

/// Appendix H (recalled): the largest learning rate at which a ResNet trains, against depth, one line
/// per normalisation, from the `max-stable-lr` searches. A circle is a rate the search bracketed (the
/// shaded band reaches up to the smallest rate that failed); a triangle is the grid's top rate, which
/// trained (the answer is at least it); a cross is the grid's bottom, where no rate trained and the lowest
/// diverged (the answer is below it); a square is the grid's bottom where no rate trained and none
/// diverged (slow learning: undetermined, see `StableRateBracket`).
public struct AppHStableRates: FigureRecipe {
    public let id = "appH"
    public let title = "App. H"
    /// 3: claims on the searches' brackets, ties declared, undetermined depths left out and drawn apart.
    public let version = 3
    public let reads = [MaxStableLRStage.kindName]

    public init() {}

    static let order: [(Normalization, String, Color)] = [
        (.none, "w/o BN", .tabRed), (.lastLayerOnly, "BN at the last layer only", .tabPurple), (.batchNorm, "with BN", .tabOrange),
    ]

    /// The searches by normalisation, sorted by depth.
    static func searches(_ context: StageContext) throws -> [Normalization: [(params: MaxStableLRStage.Params, result: MaxStableLRStage.Result)]] {
        var byNorm: [Normalization: [(params: MaxStableLRStage.Params, result: MaxStableLRStage.Result)]] = [:]
        for (input, result) in try context.results(of: MaxStableLRStage.self) {
            byNorm[result.normalization, default: []].append((try input.params(MaxStableLRStage.Params.self), result))
        }
        return byNorm.mapValues { $0.sorted { $0.result.depth < $1.result.depth } }
    }

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let searches = try Self.searches(context)
        var panel = Panel(x: Axis(label: "depth (ResNet-n)"), y: Axis(label: "largest stable learning rate", scale: .log))
        panel.legend = .none
        var censoredAbove = false, censoredBelow = false, undetermined = false
        for (norm, label, color) in Self.order {
            guard let runs = searches[norm], !runs.isEmpty else { continue }
            // One point per depth: the largest rate that trained, or the grid's bottom when none did.
            let points = runs.map { r -> (depth: Double, rate: Double, kind: Int) in
                let bottom = r.params.grid.min() ?? 0
                switch (r.result.largestStableLr, r.result.smallestFailingLr) {
                case let (stable?, _?): return (Double(r.result.depth), stable, 0)
                case let (stable?, nil): return (Double(r.result.depth), stable, 1)
                default: return (Double(r.result.depth), bottom, StableRateBracket(r.result).undetermined ? 3 : 2)
                }
            }
            let bracketed = runs.filter { $0.result.largestStableLr != nil && $0.result.smallestFailingLr != nil }
            if !bracketed.isEmpty {
                panel.band(bracketed.map { Double($0.result.depth) }, lower: bracketed.map { $0.result.largestStableLr! },
                           upper: bracketed.map { $0.result.smallestFailingLr! }, color: color, alpha: 0.15)
            }
            panel.plot(points.map(\.depth), points.map(\.rate), label: label, color: color)
            for (kind, shape) in [(0, MarkerShape.circle), (1, .triangle), (2, .cross), (3, .square)] {
                let some = points.filter { $0.kind == kind }
                guard !some.isEmpty else { continue }
                panel.plot(some.map(\.depth), some.map(\.rate), color: color, width: 0, marker: shape)
                censoredAbove = censoredAbove || kind == 1
                censoredBelow = censoredBelow || kind == 2
                undetermined = undetermined || kind == 3
            }
        }
        if censoredAbove { panel.plot([], [], label: "the grid's top rate trains (answer ≥)", color: .gray, width: 0, marker: .triangle) }
        if censoredBelow { panel.plot([], [], label: "no rate of the grid trains, the lowest diverges (answer <)", color: .gray, width: 0, marker: .cross) }
        if undetermined {
            panel.plot([], [], label: "no rate trains, none diverges: slow learning, undetermined", color: .gray, width: 0, marker: .square)
        }
        panel.plot([], [], label: "band: up to the smallest rate that failed", color: .gray.withAlpha(0.3), width: 6)
        var fig = Figure(width: 10, height: 5, dpi: 150)
        fig.sharedLegend = true
        fig.title = RichText(Self.caption(searches.values.flatMap { $0 }))
        fig[0, 0] = panel
        return [("appH-stable-lr", fig)]
    }

    static func caption(_ runs: [(params: MaxStableLRStage.Params, result: MaxStableLRStage.Result)]) -> String {
        guard let p = runs.first?.params else { return "no searches" }
        let epochs = p.epochs, perClass = p.trainPerClass, seeds = p.seeds.count, factor = JSONValue.formatNumber(p.factor)
        return "Largest rate that trains (\(epochs) epochs on \(perClass)/class, \(seeds) seed\(seeds == 1 ? "" : "s"), bracket ×\(factor))"
    }

    /// App. H's claims on the searches' brackets (`StableRateBracket`), not on point values: a
    /// comparison holds only where one net trains at a rate at which the other fails, a tie at the grid's
    /// resolution is declared, and a depth whose search is undetermined (no rate trains, none diverges)
    /// is named and left out rather than read as "below the grid" (issue 22, item 6).
    public func claims(_ context: StageContext) throws -> [Claim] {
        let searches = try Self.searches(context)
        func text(_ r: MaxStableLRStage.Result) -> String { "ResNet-\(r.depth): \(StableRateBracket(r).text)" }
        let seeds = searches.values.joined().first?.params.seeds.count ?? 0
        let seedText = "\(seeds) seed\(seeds == 1 ? "" : "s"), every one must train"
        var claims: [Claim] = []
        if let none = searches[.none]?.map(\.result), none.count >= 2 {
            let determined = none.filter { !StableRateBracket($0).undetermined }
            let left = none.filter { StableRateBracket($0).undetermined }.map { "ResNet-\($0.depth)" }
            var verdict = Claim.Verdict.inconclusive
            var ties: [String] = []
            if determined.count >= 2 {
                let brackets = determined.map(StableRateBracket.init)
                // Deeper above shallower anywhere is a reversal; the ends must separate.
                let reversed = zip(brackets, brackets.dropFirst()).contains { $1.above($0) == .holds }
                ties = zip(determined, determined.dropFirst()).filter { StableRateBracket($0) == StableRateBracket($1) }
                    .map { "ResNet-\($0.depth) and ResNet-\($1.depth) tie" }
                let ends = brackets.first!.above(brackets.last!)
                verdict = reversed ? .fails : ends
            }
            claims.append(Claim(id: "apph.nobn-rate-falls-with-depth", figure: "App. H",
                                statement: "without BN the largest rate that trains falls with depth",
                                paper: "shallower nets tolerate larger rates", source: "paper-notes §1.2, §5 [TXT 395t; RECALL App. H]",
                                ours: none.map(text).joined(separator: ", ") + (ties.isEmpty ? "" : "; " + ties.joined(separator: ", ")),
                                test: "no deeper net trains at a rate where a shallower one fails, and the shallowest trains where the deepest fails (brackets; \(seedText))",
                                verdict: verdict,
                                note: left.isEmpty ? nil : "left out, undetermined: " + left.joined(separator: ", ")))
        }
        if let none = searches[.none]?.map(\.result), let bn = searches[.batchNorm]?.map(\.result) {
            let pairs = none.compactMap { n in bn.first { $0.depth == n.depth }.map { (n, $0) } }
            if !pairs.isEmpty {
                let verdicts = pairs.map { StableRateBracket($1).above(StableRateBracket($0)) }
                let verdict: Claim.Verdict = verdicts.contains(.fails) ? .fails : verdicts.allSatisfy { $0 == .holds } ? .holds : .inconclusive
                claims.append(Claim(id: "apph.bn-allows-larger-rates", figure: "App. H",
                                    statement: "with BN the largest rate that trains is above the unnormalised net's at every depth",
                                    paper: "BN enables larger rates", source: "paper-notes §1.2 [RECALL], the paper's thesis",
                                    ours: pairs.map { "ResNet-\($0.depth): \(StableRateBracket($1).text) vs \(StableRateBracket($0).text)" }
                                        .joined(separator: ", "),
                                    test: "at each depth BN trains at a rate where w/o BN fails (brackets; a tie fails; \(seedText))",
                                    verdict: verdict))
            }
        }
        return claims
    }
}
