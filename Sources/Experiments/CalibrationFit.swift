import Pipeline

/// Which claims the calibration fit: the set-up was chosen to match the numbers they read, so they
/// confirm the fit rather than test the paper (issue 22). The static score reads Figs. 2, 5 and 6 and the
/// logit scale at initialisation; the training term reads Fig. 3's unnormalised mini-batches.
enum CalibrationFit {
    static let claimPrefixes = ["fig2.", "fig5.", "fig6.", "fig3.nobn-"]

    static func marked(_ claims: [Claim]) -> [Claim] {
        claims.map { claim in
            var c = claim
            if claimPrefixes.contains(where: { claim.id.hasPrefix($0) }) { c.inSample = true }
            return c
        }
    }
}
