import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a vault and its intake keypair.")

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "Argon2id cost of the key file: interactive (for tests and small machines), moderate, sensitive.")
        var kdf: SecretKeyFile.Cost = .moderate

        func run() throws {
            try reporting {
                let v = vault.resolved
                let pw = try passphrase.read(confirm: true)
                let doc = try v.create(passphrase: pw, cost: kdf)
                out("vault:       \(v.directory.path)")
                out("key id:      \(doc.keyID)")
                out("fingerprint: \(doc.fingerprint)")
                note("hint: give the server the public key: tipdesk keys export --out intake.public.json")
                note("hint: publish the fingerprint out of band so witnesses and partners can check it")
            }
        }
    }
}
