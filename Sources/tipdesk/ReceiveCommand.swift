import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk.Keys {
    struct Receive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the intake keys of a share sealed to this vault. Receiving twice adds nothing.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "Argon2id cost of the imported key files.") var kdf: SecretKeyFile.Cost = .moderate
        @Option(help: "Pin the organization's root (root:…) to import the share's keyring, if this vault has no root.")
        var rootFingerprint: String?
        @Argument(help: "The key share file.") var share: String

        func run() throws {
            try reporting {
                let v = vault.resolved
                guard let data = FileManager.default.contents(atPath: share) else { throw DeskError("cannot read the key share \(share)") }
                let r = try KeySharing(vault: v).receive(
                    data, name: URL(fileURLWithPath: share).lastPathComponent, passphrase: passphrase.read(), cost: kdf,
                    rootFingerprint: rootFingerprint)
                out("received \(r.added.count) new intake key\(r.added.count == 1 ? "" : "s") (\(r.alreadyHad.count) already held)")
                for k in r.added { out("key   \(k)") }
                switch r.keyring {
                case .none: break
                case .imported(let serial): out("keyring serial \(serial) imported")
                case .notNewer(let serial): note("the shared keyring is not newer than this vault's (serial \(serial)); kept this vault's")
                case .notPinned:
                    // Not the fingerprint the share claims: anyone who has this vault's public
                    // key can make a share, so the root must come from elsewhere (§11.5's rule).
                    note("the shared keyring was not imported: this vault has no root to check it against")
                    note(
                        "hint: get your organization's root fingerprint (root:…) over a channel you trust, not from the share, and receive again with --root-fingerprint"
                    )
                case .refused(let why): note("warning: the shared keyring was not imported: \(why)")
                }
            }
        }
    }
}
