import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an encrypted backup of the whole vault: keys, keyring and tips.",
            discussion: """
                The backup is encrypted with the vault passphrase and opens only with it: keep the
                passphrase where the backup is not. Restore it with: tipdesk restore FILE --vault DIR
                """
        )

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(name: .customLong("out"), help: "The backup file to create (must not exist).") var outFile: String
        @Option(help: "Argon2id cost of the backup's key: interactive, moderate, sensitive.") var kdf: SecretKeyFile.Cost = .moderate

        func run() throws {
            try reporting {
                let v = vault.resolved
                let r = try VaultBackup(vault: v).backup(to: URL(fileURLWithPath: outFile), passphrase: passphrase.read(), cost: kdf)
                out("backed up \(r.files) files and \(r.tips) tip\(r.tips == 1 ? "" : "s") to \(outFile) (\(r.bytes) bytes)")
                note("hint: check it opens on another machine: tipdesk restore \(outFile) --vault NEW_DIR")
            }
        }
    }
}
