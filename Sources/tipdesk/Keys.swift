import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the vault's keys.", subcommands: [Export.self])

        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write the intake public key document for the server.")

            @OptionGroup var vault: VaultOptions
            @Option(help: "The file to create (must not exist).") var out: String

            func run() throws {
                try reporting {
                    guard let doc = try vault.resolved.publicKeys().last else { throw DeskError("the vault has no intake key") }
                    try vault.resolved.writePublic(doc.encoded(), to: URL(fileURLWithPath: out))
                    note("wrote the public key \(doc.keyID) to \(out)")
                }
            }
        }
    }
}
