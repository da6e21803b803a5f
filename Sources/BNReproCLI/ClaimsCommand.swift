import ArgumentParser
import Foundation
import Pipeline

struct ClaimsCommand: RegistryCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims",
        abstract: "The paper's claims checked by the cached stages of a profile: paper vs ours, and whether each holds.",
        discussion: """
        Reads the claims.json of every up-to-date stage (a figure repeats its analyses' claims; each claim is shown once). \
        Stages that are stale or never run contribute nothing and are listed. Examples:
          bnrepro claims
          bnrepro claims --profile smoke --markdown
          bnrepro claims --strict        # exit 1 if a claim fails or is inconclusive, or a stage has not run
        """)

    @OptionGroup var options: PipelineOptions
    @Flag(help: "Exit 1 if any claim fails or is inconclusive, if no claim was found, or if a stage of the profile is not up to date.")
    var strict = false
    @Flag(help: "Print the Markdown table (README's \"paper vs ours\") instead of text.")
    var markdown = false

    func run(registry: KindRegistry) throws {
        let pipeline = try options.resolve(registry)
        let store = try options.cacheStore()
        let gathered = try CachedClaims(states: StatusReport(pipeline: pipeline, store: store).states(), store: store)
        let table = gathered.table, missing = gathered.missing
        print(markdown ? table.markdown : table.text, terminator: "")
        print("profile \(pipeline.profile): \(table.summary)")
        if !missing.isEmpty {
            print("not up to date (no claims read): \(missing.joined(separator: ", "))")
        }
        if strict && (!table.undecidedOrFailing.isEmpty || table.claims.isEmpty || !missing.isEmpty) {
            throw ExitCode(1)
        }
    }
}
