import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Passphrase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the vault passphrase: every key file is re-encrypted, all or nothing.",
            discussion: """
                The old passphrase comes from --passphrase-file, $TIPDESK_PASSPHRASE or a prompt; the
                new one from --new-passphrase-file, $TIPDESK_NEW_PASSPHRASE or a prompt asked twice.
                Backups made before the change still open with the old passphrase only.
                """
        )

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "Read the new passphrase from this file (else $TIPDESK_NEW_PASSPHRASE, else a prompt).")
        var newPassphraseFile: String?

        func run() throws {
            try reporting {
                let v = vault.resolved
                let old = try passphrase.read()
                let new = try PassphraseSource(
                    file: newPassphraseFile, environment: ProcessInfo.processInfo.environment, variable: "TIPDESK_NEW_PASSPHRASE"
                ).read(prompt: "new vault passphrase: ", confirm: true)
                let n = try v.changePassphrase(from: old, to: new)
                out("re-encrypted \(n) secret key\(n == 1 ? "" : "s") under the new passphrase")
                note("hint: older backups still open with the old passphrase; make a new one: tipdesk backup --out FILE")
            }
        }
    }
}
