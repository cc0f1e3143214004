import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Orgs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The organizations whose forwards this vault verifies (SECURITY.md §11.5).",
            subcommands: [Add.self, List.self, Remove.self])
    }
}

extension Tipdesk.Orgs {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Know an organization by its root key, once you have confirmed the root fingerprint with it.",
            discussion: """
                With --keyring, for an organization already known under this name and root: remember that \
                keyring if it is newer than any seen, so forwards signed with a forwarding key it no longer \
                certifies show a replaced_key warning, or if it has the serial of the newest seen but certifies \
                another key, so forwards signed under that serial show a conflicting_keyring warning \
                (SECURITY.md §11.5).
                """)
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The organization's name in this vault.") var name: String
        @Option(help: "Its root key document (tipdesk keys export --root).") var rootKey: String?
        @Option(help: "Its signed keyring, instead of the root document.") var keyring: String?
        @Option(help: "Its root fingerprint, root:…, as it gave it to you out of band.") var fingerprint: String

        func validate() throws {
            guard (rootKey == nil) != (keyring == nil) else { throw ValidationError("give either --root-key or --keyring") }
        }

        func run() throws {
            try reporting {
                let path = rootKey ?? keyring!
                guard let data = FileManager.default.contents(atPath: path) else { throw DeskError("cannot read \(path)") }
                let session = try Desk(vault: vault.resolved).session(passphrase.read())
                let (o, change) = try session.addOrganization(
                    name: name, rootDocument: rootKey == nil ? nil : data, keyring: keyring == nil ? nil : data, fingerprint: fingerprint)
                switch change {
                case .added: note("added organization \(o.name): \(o.root.fingerprint)")
                case .newerKeyring: note("remembered keyring \(o.newest?.serial ?? 0) of \(o.name)")
                case .conflictingKeyring: break
                }
                // Found now, or kept from before a removal, or among the forwards held (§11.5 step 7).
                if let n = o.newest, n.conflicting {
                    note("ALARM: the root of \(o.name) signed two different keyrings numbered \(n.serial): its root key may be in other hands")
                    note("hint: forwards signed under that keyring or an older one show conflicting_keyring; tell \(o.name) over a channel you trust")
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the known organizations.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions

        func run() throws {
            try reporting {
                for o in try Desk(vault: vault.resolved).session(passphrase.read()).organizations() {
                    // The newest keyring seen (§11.5 step 6), so a reviewer can check it against
                    // what the organization says it last signed.
                    let ring = o.newest.map { "  newest keyring \($0.serial)\($0.conflicting ? " (CONFLICTING: its root signed two)" : "")" } ?? ""
                    out("\(o.name)  \(o.root.fingerprint)  added \(o.added)\(ring)")
                }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget an organization: its forwards will show a warning.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The organization's name.") var name: String

        func run() throws {
            try reporting {
                try Desk(vault: vault.resolved).session(passphrase.read()).removeOrganization(name)
                note("removed organization \(name)")
            }
        }
    }
}
