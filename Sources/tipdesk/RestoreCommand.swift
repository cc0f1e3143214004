import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup into a new vault directory. Nothing is written unless all of it verifies.")

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The backup file written by tipdesk backup.") var backup: String

        func run() throws {
            try reporting {
                let v = vault.resolved
                guard let data = FileManager.default.contents(atPath: backup) else { throw DeskError("cannot read the backup \(backup)") }
                let r = try VaultBackup.restore(data, name: URL(fileURLWithPath: backup).lastPathComponent, passphrase: passphrase.read(), to: v)
                out("restored \(r.files) files and \(r.tips) tip\(r.tips == 1 ? "" : "s") into \(v.directory.path)")
                note("hint: the restored vault opens with the passphrase the backup was made with")
            }
        }
    }
}
