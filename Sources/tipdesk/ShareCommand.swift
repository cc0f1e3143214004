import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk.Keys {
    struct Share: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal this vault's intake keys and keyring to another vault's key (never the root key).")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "The recipient's vault key document (tipdesk keys vault-key).") var to: String
        @Option(name: .customLong("out"), help: "The key share file to create (must not exist).") var outFile: String

        func run() throws {
            try reporting {
                let v = vault.resolved
                let recipient = try KeySharing.recipient(at: to)
                guard !FileManager.default.fileExists(atPath: outFile) else {
                    throw DeskError("\(outFile) already exists; choose a new name", hints: ["choose another --out, or remove the old file"])
                }
                let keys = try KeySharing(vault: v).share(to: recipient, passphrase: passphrase.read(), out: URL(fileURLWithPath: outFile))
                out("shared \(keys.count) intake key\(keys.count == 1 ? "" : "s") with vault \(recipient.keyID) in \(outFile)")
                out("recipient fingerprint: \(recipient.fingerprint)")
                note("hint: compare that fingerprint with the recipient's out of band before handing over \(outFile)")
            }
        }
    }
}
