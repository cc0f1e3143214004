import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the vault's keys and the signed keyring.",
            subcommands: [
                List.self, Export.self, InitRoot.self, Renew.self, Rotate.self, Retire.self, ForwardingKey.self, VaultKey.self, Share.self, Receive.self,
            ])
    }
}

/// `--out` and `--scripts`, shared by the commands that sign a keyring.
struct KeyringOutput: ParsableArguments {
    @Option(help: "The signed keyring file to create (must not exist); install it with tipgate keys install.")
    var out: String
    @Option(help: "A JSON map of page script name to integrity value (tipgate page-hashes); default: keep the previous.")
    var scripts: String?

    func loadScripts() throws -> [String: String]? {
        guard let scripts else { return nil }
        guard let data = FileManager.default.contents(atPath: scripts),
            let map = try? JSONDecoder().decode([String: String].self, from: data)
        else { throw DeskError("\(scripts) is not a JSON map of script names to integrity values") }
        return map
    }

    func write(_ signed: SignedKeyring, vault: Vault) throws {
        try vault.writePublic(signed.encoded(), to: URL(fileURLWithPath: out))
    }
}

extension Tipdesk.Keys {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the intake keys with their status, and the root.")
        @OptionGroup var vault: VaultOptions

        func run() throws {
            try reporting {
                let admin = KeyAdmin(vault: vault.resolved)
                if let root = try admin.rootDocument() { out("root  \(root.keyID)  \(root.fingerprint)") }
                if let (_, p) = try admin.latest() { out("keyring serial \(p.serial), issued \(p.issued), expires \(p.expires)") }
                if let f = try admin.forwardingDocument() { out("forwarding  \(f.keyID)  \(f.fingerprint)") }
                for (doc, status) in try admin.list() {
                    out("key   \(doc.keyID)  \(col(status?.rawValue ?? "not in keyring", 14))  \(doc.fingerprint)")
                }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a public document: the current intake key (default) or the root.")
        @OptionGroup var vault: VaultOptions
        @Flag(help: "Export the root key's public document (for tipgate serve --root-key).") var root = false
        @Option(help: "The file to create (must not exist).") var out: String

        func run() throws {
            try reporting {
                let v = vault.resolved
                let admin = KeyAdmin(vault: v)
                if root {
                    guard let doc = try admin.rootDocument() else { throw DeskError("this vault has no root key", hints: ["tipdesk keys init-root"]) }
                    try v.writePublic(doc.encoded(), to: URL(fileURLWithPath: out))
                    note("wrote the root key \(doc.fingerprint) to \(out)")
                    return
                }
                let keys = try v.publicKeys()
                let current = try admin.latest()?.1.current(on: .today)
                guard let doc = keys.first(where: { $0.keyID == current?.keyID }) ?? keys.last else {
                    throw DeskError("the vault has no intake key")
                }
                try v.writePublic(doc.encoded(), to: URL(fileURLWithPath: out))
                note("wrote the public key \(doc.keyID) to \(out)")
            }
        }
    }

    struct InitRoot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init-root", abstract: "Create the organization's root signing key (offline, once).")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "Argon2id cost of the key file: interactive, moderate, sensitive.") var kdf: SecretKeyFile.Cost = .moderate

        func run() throws {
            try reporting {
                let doc = try KeyAdmin(vault: vault.resolved).initRoot(passphrase: passphrase.read(), cost: kdf)
                out("root key id:      \(doc.keyID)")
                out("root fingerprint: \(doc.fingerprint)")
                note("hint: publish the root fingerprint out of band: website, paper, partners' directories")
                note("hint: sign the first keyring with: tipdesk keys renew --out keyring.json")
            }
        }
    }

    struct Renew: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the keyring again with a new serial and expiry (the first call signs serial 1).")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var output: KeyringOutput
        @Option(help: "Days the keyring is valid for.") var days = KeyAdmin.defaultValidity

        func validate() throws {
            guard (1...366).contains(days) else { throw ValidationError("--days must be from 1 to 366") }
        }

        func run() throws {
            try reporting {
                let v = vault.resolved
                let signed = try KeyAdmin(vault: v).renew(passphrase: passphrase.read(), validity: days, scripts: output.loadScripts())
                try output.write(signed, vault: v)
                let p = try KeyringPayload.decode(signed.payload)
                note("signed keyring serial \(p.serial), expires \(p.expires), to \(output.out)")
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new intake key, current from today; the old one keeps being accepted during the overlap.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var output: KeyringOutput
        @Option(help: "How long the old key stays accepted, like 14d.") var overlap = "14d"
        @Option(help: "Argon2id cost of the new key file.") var kdf: SecretKeyFile.Cost = .moderate

        var overlapDays: Int? {
            guard overlap.hasSuffix("d"), let n = Int(overlap.dropLast()), (0...365).contains(n) else { return nil }
            return n
        }

        func validate() throws {
            guard overlapDays != nil else { throw ValidationError("--overlap takes days, like 14d (0d to 365d)") }
        }

        func run() throws {
            try reporting {
                let v = vault.resolved
                let (doc, signed) = try KeyAdmin(vault: v).rotate(
                    passphrase: passphrase.read(), overlapDays: overlapDays!, cost: kdf, scripts: output.loadScripts())
                try output.write(signed, vault: v)
                out("new key:     \(doc.keyID)")
                out("fingerprint: \(doc.fingerprint)")
                note("hint: install it on the server: tipgate keys install --data DIR --root-key ROOT.json \(output.out)")
            }
        }
    }

    struct Retire: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a key now, in an emergency: the server stops accepting it.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @OptionGroup var output: KeyringOutput
        @Argument(help: "The key id to retire.") var keyID: String

        func validate() throws {
            guard KeyID(keyID) != nil else { throw ValidationError("a key id is 16 lowercase hex digits") }
        }

        func run() throws {
            try reporting {
                let v = vault.resolved
                let signed = try KeyAdmin(vault: v).retire(KeyID(keyID)!, passphrase: passphrase.read())
                try output.write(signed, vault: v)
                note("retired \(keyID); install \(output.out) on the server now")
            }
        }
    }
}
