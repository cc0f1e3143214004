import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

/// The reviewer's CLI, for the offline machine. The root command only lists subcommands.
@main
struct Tipdesk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tipdesk",
        abstract: "Review sealed tips offline: keys, import, read.",
        subcommands: [Init.self, Keys.self, Import.self, List.self, Show.self, Seal.self, CheckServer.self, CourierCommand.self, Passphrase.self, Backup.self, Restore.self]
    )
}
