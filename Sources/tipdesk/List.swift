import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt and list the tips in the vault, most urgent first, then newest day first.",
            discussion: """
                A tip without an urgency sorts with normal ones. Filters of one kind match any of their
                values; --tag needs every tag given; different filters all apply.
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var filters: FilterOptions
        @Flag(help: "Print JSON (stable field names, sorted keys) instead of a table.") var json = false

        func run() throws {
            try reporting {
                let session = try Desk(vault: vault.resolved).session(passphrase.read())
                let forwarded = try session.receivedForwardIDs()
                let tips = try session.list(filters.filter)
                if json {
                    out(TipJSON.encode(tips, forwarded: forwarded))
                    return
                }
                out(lines: tips.lazy.map { tipLine($0, forwarded: forwarded.contains($0.id)) })
                if tips.isEmpty { note("no tips match; import a bundle with: tipdesk import BUNDLE") }
            }
        }
    }
}
