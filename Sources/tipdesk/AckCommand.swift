import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a root-signed acknowledgement so the server deletes the tips this vault holds safely.",
            discussion: """
                Lists, for one server instance, every tip that opened here and was not acknowledged
                before, with the hash of its sealed bytes, and the audit log's head (SECURITY.md §5.2,
                §10.4). Refused unless a backup was taken since the newest import: after the ack the
                server deletes its copies. Carry the file to the online machine and send it with:
                tipdesk courier push-ack FILE --server URL
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(name: .customLong("out"), help: "The acknowledgement file to create (must not exist).") var outFile: String
        @Option(help: "The server instance (32 hex) to acknowledge, when the vault holds tips from several.") var instance: String?
        @Flag(help: "Acknowledge even though no backup holds the newest import (the server then deletes tips only this vault holds).")
        var withoutBackup = false

        func run() throws {
            try reporting {
                let session = try Desk(vault: vault.resolved).session(passphrase.read())
                if withoutBackup, let problem = try session.backupProblem() {
                    note("warning: \(problem); acknowledging anyway (--without-backup): the server will delete tips that only this vault holds")
                }
                let r = try session.ack(to: URL(fileURLWithPath: outFile), instance: instance, withoutBackup: withoutBackup)
                out("acknowledged \(r.tips) tip\(r.tips == 1 ? "" : "s") of server \(r.instance) in \(outFile)")
                out("audit head: \(r.auditHead)")
                if r.remaining > 0 { note("\(r.remaining) more tips wait for the next ack (one ack lists at most \(AckPayload.maxTips))") }
                note("hint: on the online machine: tipdesk courier push-ack \(outFile) --server URL")
            }
        }
    }
}
