import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk.Keys {
    struct ForwardingKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forwarding-key",
            abstract: "Make the forwarding key and certify it in a newly signed keyring (needs the root; once).",
            discussion: """
                Forwards to partners are signed with this key day to day; partners check it against
                the root that certified it (SECURITY.md §11.3). Install the new keyring on the server.
                """)
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var output: KeyringOutput
        @Option(help: "Argon2id cost of the key file: interactive, moderate, sensitive.") var kdf: SecretKeyFile.Cost = .moderate
        @Flag(help: "Replace the existing forwarding key (it may have leaked): the old secret is deleted.") var replace = false

        func run() throws {
            try reporting {
                let v = vault.resolved
                let (doc, signed) = try KeyAdmin(vault: v).createForwardingKey(passphrase: passphrase.read(), cost: kdf, replace: replace)
                try output.write(signed, vault: v)
                let p = try KeyringPayload.decode(signed.payload)
                note("forwarding key \(doc.keyID) certified in keyring serial \(p.serial), written to \(output.out)")
                note("hint: install it on the server: tipgate keys install --data DIR \(output.out)")
            }
        }
    }
}
