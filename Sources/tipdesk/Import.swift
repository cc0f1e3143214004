import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a bundle written by tipgate export. Importing twice adds nothing.")

        @OptionGroup var vault: VaultOptions
        @Argument(help: "The bundle file.") var bundle: String

        func run() throws {
            try reporting {
                let r = try Desk(vault: vault.resolved).importBundle(at: URL(fileURLWithPath: bundle))
                out("imported \(r.added) new tip\(r.added == 1 ? "" : "s") (\(r.alreadyHad) already held) from server \(r.instance)")
                for id in r.conflicts {
                    note("warning: tip \(id) is already in the vault with different bytes; kept the one held")
                }
                for k in r.unlistedKeys {
                    note("ALARM: some tips are sealed to key \(k), which no keyring signed by this vault ever listed")
                    note("hint: the server may have handed witnesses a key of its own; check it with tipdesk check-server and rotate")
                }
                for k in r.unknownKeys where !r.unlistedKeys.contains(k) {
                    note("warning: some tips are sealed to key \(k), which this vault does not hold")
                }
            }
        }
    }
}
