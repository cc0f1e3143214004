import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Try again to open the tips held sealed, after their key arrived (tipdesk keys receive).")

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions

        func run() throws {
            try reporting {
                let r = try Desk(vault: vault.resolved).reopen(passphrase: passphrase.read())
                out("opened \(r.opened) tip\(r.opened == 1 ? "" : "s"); \(r.stillSealed.count) still sealed")
                printKeyringConflicts(r.keyringConflicts)
                printSuggestions(r.suggestions)
            }
        }
    }
}
