import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Partners: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The partner organizations tips are forwarded to (SECURITY.md §11.1).",
            subcommands: [Add.self, List.self, Show.self, Remove.self])
    }
}

extension Tipdesk.Partners {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a partner, once you have confirmed its key's fingerprint with it.",
            discussion: """
                The key is taken only if the fingerprint you type matches: the key's own for
                --public-key, or the partner's root (root:…) for --keyring, whose signature is checked.
                  tipdesk partners add Aid --keyring aid-keyring.json --fingerprint 'root:…' \\
                    --category labour --category sexual --delivery tipgate:https://aid.example
                """)
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The partner's name in this vault.") var name: String
        @Option(help: "The partner's public key document.") var publicKey: String?
        @Option(help: "The partner's signed keyring (its current key is used).") var keyring: String?
        @Option(help: "The fingerprint the partner gave you out of band (root:… for a keyring).") var fingerprint: String
        @Option(help: "A category id this partner accepts (repeatable).") var category: [String] = []
        @Option(help: "outbox:DIR (a file to carry) or tipgate:https://HOST (the partner's own tipgate).") var delivery: String

        func validate() throws {
            guard (publicKey == nil) != (keyring == nil) else { throw ValidationError("give either --public-key or --keyring") }
        }

        func run() throws {
            try reporting {
                let delivery = try Delivery(parsing: delivery)
                func read(_ path: String?) throws -> Data? {
                    guard let path else { return nil }
                    guard let d = FileManager.default.contents(atPath: path) else { throw DeskError("cannot read \(path)") }
                    return d
                }
                let session = try Desk(vault: vault.resolved).session(passphrase.read())
                let p = try session.addPartner(
                    name: name, publicKey: try read(publicKey), keyring: try read(keyring), fingerprint: fingerprint, categories: category,
                    delivery: delivery)
                note("added partner \(p.name): key \(p.key.keyID), delivery \(p.delivery)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the partners.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions

        func run() throws {
            try reporting {
                for p in try Desk(vault: vault.resolved).session(passphrase.read()).partners() {
                    out("\(p.name)  key \(p.key.keyID)  \(p.delivery)  categories: \(p.categories.isEmpty ? "-" : p.categories.joined(separator: ","))")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one partner's key, fingerprint, categories and delivery.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The partner's name.") var name: String

        func run() throws {
            try reporting {
                let p = try Desk(vault: vault.resolved).session(passphrase.read()).partner(named: name)
                out("name:        \(p.name)")
                out("key:         \(p.key.keyID)")
                out("fingerprint: \(p.key.fingerprint)")
                out("root:        \(p.rootFingerprint ?? "- (added from a key document)")")
                out("categories:  \(p.categories.isEmpty ? "-" : p.categories.joined(separator: ", "))")
                out("delivery:    \(p.delivery)")
                out("added:       \(p.added)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a partner (forwards already sent stay in the audit log).")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The partner's name.") var name: String

        func run() throws {
            try reporting {
                try Desk(vault: vault.resolved).session(passphrase.read()).removePartner(name)
                note("removed partner \(name)")
            }
        }
    }
}
