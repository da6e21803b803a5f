import Foundation
import Pipeline

/// Fig. 1's claims (paper-notes §1.3 and §4, Fig. 1), on the mean over seeds of the final test
/// accuracy. A diverged run counts as chance (10 %): it ended nowhere.
extension Fig1Accuracy {
    public func claims(_ context: StageContext) throws -> [Claim] {
        let (runs, _, _, probes) = try Self.runs(context)
        let chance = Self.chance
        func seeded(_ c: Configuration) -> SeededAccuracy? { runs[c].flatMap { $0.isEmpty ? nil : $0.finalTestAccuracy } }
        func mean(_ c: Configuration) -> Double? { seeded(c)?.mean }
        let source = "paper-notes §1.3 [IMG Fig. 1], §4 Fig. 1 [RECALL caption]"
        let bnRates = runs.keys.filter(\.bn).map(\.lr).sorted()
        let noBNRates = runs.keys.filter { !$0.bn }.map(\.lr).sorted()
        guard let large = bnRates.last else { return [] }
        let bnLarge = Configuration(bn: true, lr: large)
        // The no-BN net's working rate: its largest rate below the large one (the paper's 1e-4).
        let small = noBNRates.last { $0 < large }
        var claims: [Claim] = []

        claims += Self.largeRateClaims(runs: runs, probes: probes, large: large, source: source)

        // Comparisons of end points, decided beyond their noise (seed spread and binomial error, NoisyVerdict),
        // and only between runs at their plateau: otherwise they compare speeds, not end points.
        func atPlateau(_ c: Configuration) -> Bool { (runs[c] ?? []).allAtPlateau }
        func plateauNote(_ cs: [Configuration]) -> String? {
            let missing = cs.filter { !atPlateau($0) }
            return missing.isEmpty ? nil : "not at plateau: " + missing.map { "lr \(Self.rateText($0.lr)) \($0.bn ? "with" : "w/o") BN" }
                .joined(separator: ", ") + "; a comparison of unfinished runs decides nothing"
        }
        func decided(_ verdict: Claim.Verdict, _ cs: [Configuration]) -> Claim.Verdict {
            plateauNote(cs) == nil ? verdict : .inconclusive
        }
        // Runs without BN that train: not diverged and above chance by more than 5 points.
        let trainingNoBN = runs.keys.filter { c in !c.bn && (mean(c) ?? 0) > chance + 0.05 && !(runs[c] ?? []).allSatisfy(\.diverged) }
        if let bn = seeded(bnLarge), let best = trainingNoBN.max(by: { (mean($0) ?? 0) < (mean($1) ?? 0) }), let noBN = seeded(best) {
            claims.append(Claim(id: "fig1.bn-large-rate-wins", figure: "Fig. 1",
                                statement: "BN at the large rate ends ahead of every run without BN that trains, all at their plateau (final test accuracy)",
                                paper: "93.2 % vs 82 %", source: source,
                                ours: "\(bn.text) vs best w/o BN (lr \(Self.rateText(best.lr))) \(noBN.text)",
                                test: "margin > 2 combined SE, both at plateau",
                                verdict: decided(NoisyVerdict.greater(bn, than: noBN), [bnLarge, best]), note: plateauNote([bnLarge, best])))
        }
        // The 0.003 line is drawn whatever its state, but a claim reads it only at its plateau (issue 21).
        let middle = Configuration(bn: true, lr: 0.003)
        if let bn = seeded(bnLarge), let mid = seeded(middle), large != 0.003, atPlateau(middle) {
            claims.append(Claim(id: "fig1.large-beats-middle-rate", figure: "Fig. 1",
                                statement: "with BN the large rate ends ahead of the middle rate 0.003 (final test accuracy)",
                                paper: "93.2 % vs 90.3 %", source: source,
                                ours: "\(bn.text) vs \(mid.text)", test: "margin > 2 combined SE, both at plateau",
                                verdict: decided(NoisyVerdict.greater(bn, than: mid), [bnLarge, middle]), note: plateauNote([bnLarge, middle])))
        }
        if let small, let bn = seeded(Configuration(bn: true, lr: small)), let noBN = seeded(Configuration(bn: false, lr: small)) {
            let pair = [Configuration(bn: true, lr: small), Configuration(bn: false, lr: small)]
            let (low, high) = NoisyVerdict.interval(bn, noBN)
            claims.append(Claim(id: "fig1.same-small-rate", figure: "Fig. 1",
                                statement: "at the same small rate \(Self.rateText(small)) BN and no BN end within 2 points of each other, both at their plateau",
                                paper: "81.3 % vs 82 %", source: source,
                                ours: String(format: "%@ vs %@; difference 95 %% interval [%.1f, %.1f] points", bn.text, noBN.text, 100 * low, 100 * high),
                                test: "95 % interval of the difference within ±2 points, both at plateau",
                                verdict: decided(NoisyVerdict.equivalent(bn, noBN, tolerance: 0.02), pair), note: plateauNote(pair)))
        }
        if let small, let noBN = runs[Configuration(bn: false, lr: small)],
           let early = Self.earlyLearningClaim(noBN, small: small, source: source) {
            claims.append(early)
        }
        return claims
    }
}
