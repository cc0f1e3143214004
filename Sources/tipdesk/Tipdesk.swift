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
        abstract: "Review sealed tips offline: keys, import, read, triage, forward, acknowledge.",
        subcommands: [
            Init.self, Keys.self, Import.self, Reopen.self, List.self, Show.self, Search.self, RelatedCommand.self, TriageCommand.self,
            Categories.self, Partners.self, Forward.self, Forwards.self, Orgs.self, Ack.self, Audit.self, Seal.self, CheckServer.self,
            CourierCommand.self, Passphrase.self, Backup.self, Restore.self,
        ]
    )
}
