import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk.Keys {
    struct VaultKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vault-key",
            abstract: "Write this vault's public vault key, making it if needed, so another vault can share keys to it.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(name: .customLong("out"), help: "The public document to create (must not exist).") var outFile: String
        @Option(help: "Argon2id cost of the vault key file, if it is made now.") var kdf: SecretKeyFile.Cost = .moderate

        func run() throws {
            try reporting {
                let v = vault.resolved
                guard !FileManager.default.fileExists(atPath: outFile) else {
                    throw DeskError("\(outFile) already exists; choose a new name", hints: ["choose another --out, or remove the old file"])
                }
                // The passphrase is asked only when the key has to be made.
                let doc = try v.vaultKeyDocument() ?? v.createVaultKey(passphrase: passphrase.read(), cost: kdf)
                try v.writePublic(doc.encoded(), to: URL(fileURLWithPath: outFile))
                out("vault key id:      \(doc.keyID)")
                out("vault fingerprint: \(doc.fingerprint)")
                note("hint: give \(outFile) to the sharer, and read them the fingerprint out of band")
            }
        }
    }
}
