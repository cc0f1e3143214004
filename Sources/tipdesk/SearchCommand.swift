import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find tips whose text or fields contain every word of a query.",
            discussion: """
                Case, diacritics and apostrophes are ignored, and the Cyrillic letters of Uzbek,
                Kyrgyz, Tajik and Ukrainian match their nearest Russian letter, so "ozbek", "o'zbek"
                and "Oʻzbek" find one another, as do "ҳужжат" and "хужжат". A word matches the start of
                a longer word or any part of it: "паспорт" finds "паспорта". Tips are decrypted in
                memory and searched on all cores; nothing is indexed on disk, and the query is not
                logged.
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var filters: FilterOptions
        @Flag(help: "Print JSON (the shape of tipdesk list --json).") var json = false
        @Argument(help: "The words to find.") var query: [String]

        func run() throws {
            try reporting {
                let session = try Desk(vault: vault.resolved).session(passphrase.read())
                let forwarded = try session.receivedForwardIDs()
                let tips = try session.search(query.joined(separator: " "), filter: filters.filter)
                if json {
                    out(TipJSON.encode(tips, forwarded: forwarded))
                    return
                }
                out(lines: tips.lazy.map { tipLine($0, forwarded: forwarded.contains($0.id)) })
                note("\(tips.count) tip\(tips.count == 1 ? "" : "s") found")
            }
        }
    }
}
