import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a bundle written by tipgate export. Importing twice adds nothing.",
            discussion: """
                Each new tip is opened once and kept encrypted under the vault's data key with its
                triage (SECURITY.md §10). A tip that does not open (its key is not in this vault yet)
                stays sealed and is tried again on the next import, or with: tipdesk reopen.
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The bundle file.") var bundle: String

        /// More suggestions than this are counted, not listed: `tipdesk list` shows the rest.
        static let shownSuggestions = 20

        func run() throws {
            try reporting {
                let r = try Desk(vault: vault.resolved).importBundle(at: URL(fileURLWithPath: bundle), passphrase: passphrase.read())
                out("imported \(r.added) new tip\(r.added == 1 ? "" : "s") (\(r.alreadyHad) already held) from server \(r.instance)")
                if !r.unopened.isEmpty {
                    note("warning: \(r.unopened.count) new tip\(r.unopened.count == 1 ? "" : "s") did not open and stay sealed; see them with: tipdesk list")
                }
                if !r.forwards.isEmpty {
                    out(
                        "\(r.forwards.count) of them \(r.forwards.count == 1 ? "is a forward" : "are forwards") from another organization; tipdesk show ID says who sent \(r.forwards.count == 1 ? "it" : "them") and whether that verifies:"
                    )
                    for id in r.forwards.sorted() { out("  \(id.hex.prefix(12))") }
                }
                printKeyringConflicts(r.keyringConflicts)
                if r.reopened > 0 { out("opened \(r.reopened) tip\(r.reopened == 1 ? "" : "s") held sealed from earlier imports") }
                for id in r.conflicts {
                    note("warning: tip \(id) is already in the vault with different bytes; kept the one held")
                }
                for k in r.unlistedKeys {
                    note("ALARM: some tips are sealed to key \(k), which no keyring signed by this vault ever listed")
                    note("hint: the server may have handed witnesses a key of its own; check it with tipdesk check-server and rotate")
                }
                for k in r.unknownKeys where !r.unlistedKeys.contains(k) {
                    note("warning: some tips are sealed to key \(k), which this vault does not hold")
                }
                printSuggestions(r.suggestions)
            }
        }
    }
}

/// After an import or reopen: the known organizations whose roots the forwards opened showed
/// to have signed two keyrings of one serial (SECURITY.md §11.5 step 7).
func printKeyringConflicts(_ names: [String]) {
    for name in names {
        note("ALARM: the root of \(name) signed two different keyrings of one serial: its root key may be in other hands")
        note("hint: forwards signed under that keyring or an older one show conflicting_keyring; confirm them with \(name) over a channel you trust")
    }
}

/// Suggestions after an import or reopen: shown, never applied (the reviewer decides).
func printSuggestions(_ suggestions: [SuggestedTriage]) {
    guard !suggestions.isEmpty else { return }
    out("suggested triage (not applied; accept with: tipdesk triage ID --accept-suggestions):")
    let k = Tipdesk.Import.shownSuggestions
    for s in SuggestedTriage.first(k, of: suggestions) {
        out("  \(s.id.hex.prefix(12))  \(describe(s.suggestion) ?? "-")")
    }
    if suggestions.count > k {
        out("  … and \(suggestions.count - k) more; tipdesk show ID shows each tip's suggestion")
    }
}
