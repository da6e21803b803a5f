import Foundation
import Pipeline

/// `claims`: gathers the claims of its deps (the figure stages) into one table, `claims.md` (README's
/// "paper vs ours") and `claims.json`. It never fails because a claim fails: a failing claim is a
/// result, reported as such.
public struct ClaimsStage: ParameterizedKind {
    public static let markdownFile = "claims.md"
    public let name = "claims"
    public let version = 1
    /// None: the claims are the deps'.
    public struct Params: StageParams {
        public init() {}
    }

    public init() {}

    public func run(_ context: StageContext, _ params: Params) throws {
        let table = ClaimsTable([ClaimsFile(stage: context.stage, claims: try context.dependencyClaims())])
        let header = "<!-- written by bnrepro's `\(context.stage)` stage; \(table.summary) -->\n"
        try Data((header + table.markdown).utf8).write(to: context.output(Self.markdownFile), options: .atomic)
        try ClaimsFile(stage: context.stage, claims: table.claims).write(to: context.output(ClaimsFile.fileName))
        print(table.text, terminator: "")
        print(table.summary)
    }
}
