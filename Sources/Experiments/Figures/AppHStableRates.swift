import Foundation
import NN
import Pipeline
import Plot

/// Appendix H (recalled): the largest learning rate at which a ResNet trains, against depth, one line
/// per normalisation, from the `max-stable-lr` searches. The shaded band between a line and its dashed
/// twin is the bracket the search left: trains at the line, fails at the dashed one. A search whose top
/// rate trained is drawn as a triangle at that rate (the answer is at least it); one where no rate of
/// the grid trained as a cross at the grid's bottom (the answer is below it).
public struct AppHStableRates: FigureRecipe {
    public let id = "appH"
    public let version = 1
    public let reads = [MaxStableLRStage.kindName]

    public init() {}

    static let order: [(Normalization, String, Color)] = [
        (.none, "w/o BN", .tabRed), (.lastLayerOnly, "BN at the last layer only", .tabPurple), (.batchNorm, "with BN", .tabOrange),
    ]

    /// The searches by normalisation, sorted by depth.
    static func searches(_ context: StageContext) throws -> [Normalization: [(params: JSONObject, result: MaxStableLRStage.Result)]] {
        var byNorm: [Normalization: [(params: JSONObject, result: MaxStableLRStage.Result)]] = [:]
        for (input, result) in try context.results(of: MaxStableLRStage.self) {
            byNorm[result.normalization, default: []].append((input.params, result))
        }
        return byNorm.mapValues { $0.sorted { $0.result.depth < $1.result.depth } }
    }

    public func figures(_ context: StageContext) throws -> [(name: String, figure: Figure)] {
        let searches = try Self.searches(context)
        var panel = Panel(x: Axis(label: "depth (ResNet-n)"), y: Axis(label: "largest stable learning rate", scale: .log))
        panel.legend = .best
        for (norm, label, color) in Self.order {
            guard let runs = searches[norm], !runs.isEmpty else { continue }
            let bracketed = runs.filter { $0.result.largestStableLr != nil && $0.result.smallestFailingLr != nil }
            let x = bracketed.map { Double($0.result.depth) }
            if !bracketed.isEmpty {
                panel.band(x, lower: bracketed.map { $0.result.largestStableLr! }, upper: bracketed.map { $0.result.smallestFailingLr! },
                           color: color, alpha: 0.15)
                panel.plot(x, bracketed.map { $0.result.largestStableLr! }, label: label, color: color, marker: .circle)
                panel.plot(x, bracketed.map { $0.result.smallestFailingLr! }, color: color, dash: .dashed)
            }
            let above = runs.filter { $0.result.smallestFailingLr == nil }.compactMap { r in r.result.largestStableLr.map { (Double(r.result.depth), $0) } }
            if !above.isEmpty {
                panel.plot(above.map(\.0), above.map(\.1), label: "\(label): the grid's top rate trains", color: color,
                           width: 0, marker: .triangle)
            }
            let below = runs.filter { $0.result.largestStableLr == nil }.compactMap { r in
                r.params["grid"]?.arrayValue?.compactMap(\.doubleValue).min().map { (Double(r.result.depth), $0) }
            }
            if !below.isEmpty {
                panel.plot(below.map(\.0), below.map(\.1), label: "\(label): no rate of the grid trains", color: color,
                           width: 0, marker: .cross)
            }
        }
        var fig = Figure(width: 6.4, height: 4.6, dpi: 150)
        fig.title = RichText(Self.caption(searches.values.flatMap { $0 }))
        fig[0, 0] = panel
        return [("appH-stable-lr", fig)]
    }

    static func caption(_ runs: [(params: JSONObject, result: MaxStableLRStage.Result)]) -> String {
        guard let p = runs.first?.params else { return "no searches" }
        let epochs = p["epochs"]?.canonicalText ?? "?", perClass = p["trainPerClass"]?.canonicalText ?? "?"
        let seeds = p["seeds"]?.arrayValue?.count ?? 0, factor = p["factor"]?.canonicalText ?? "?"
        return "Largest rate that trains (\(epochs) epochs on \(perClass)/class, \(seeds) seed\(seeds == 1 ? "" : "s"), bracket ×\(factor))"
    }

    public func claims(_ context: StageContext) throws -> [Claim] {
        let searches = try Self.searches(context)
        func value(_ r: MaxStableLRStage.Result) -> Double { r.largestStableLr ?? 0 }  // none of the grid: below it
        func text(_ r: MaxStableLRStage.Result) -> String {
            let rate = r.largestStableLr.map { String(format: "%.3g", $0) } ?? "none"
            return "ResNet-\(r.depth): \(rate)\(r.smallestFailingLr == nil && r.largestStableLr != nil ? "+" : "")"
        }
        var claims: [Claim] = []
        if let none = searches[.none]?.map(\.result), none.count >= 2 {
            let values = none.map(value)
            let falls = zip(values, values.dropFirst()).allSatisfy { $0 >= $1 } && values.last! < values.first!
            claims.append(Claim(id: "apph.nobn-rate-falls-with-depth", figure: "App. H",
                                statement: "without BN the largest stable learning rate falls with depth",
                                paper: "shallower nets tolerate larger rates", source: "paper-notes §1.2, §5 [TXT 395t; RECALL App. H]",
                                ours: none.map(text).joined(separator: ", "),
                                test: "non-increasing in depth, deepest below shallowest", verdict: Claim.verdict(falls)))
        }
        if let none = searches[.none]?.map(\.result), let bn = searches[.batchNorm]?.map(\.result) {
            let pairs = none.compactMap { n in bn.first { $0.depth == n.depth }.map { (n, $0) } }
            if !pairs.isEmpty {
                let above = pairs.allSatisfy { value($1) > value($0) }
                claims.append(Claim(id: "apph.bn-allows-larger-rates", figure: "App. H",
                                    statement: "with BN the largest stable rate is above the unnormalised net's at every depth",
                                    paper: "BN enables larger rates", source: "paper-notes §1.2 [RECALL], the paper's thesis",
                                    ours: pairs.map { "ResNet-\($0.depth): \(text($1).split(separator: " ").last!) vs \(text($0).split(separator: " ").last!)" }
                                        .joined(separator: ", "),
                                    test: "BN > w/o BN at each depth", verdict: Claim.verdict(above)))
            }
        }
        return claims
    }
}
