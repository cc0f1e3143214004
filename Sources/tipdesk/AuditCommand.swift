import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read and verify the vault's encrypted audit log.",
            subcommands: [Show.self, Verify.self])
    }
}

extension Tipdesk.Audit {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the audit log's entries (after verifying the chain).")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Flag(help: "Print JSON: [{\"action\",\"day\",\"details\",\"mac\",\"seq\"}].") var json = false

        func run() throws {
            try reporting {
                let entries = try Desk(vault: vault.resolved).session(passphrase.read()).auditEntries()
                if json {
                    struct Entry: Encodable {
                        let seq: Int64
                        let day: String
                        let action: String
                        let details: [String: AuditValue]
                        let mac: String
                    }
                    // Escaped as every JSON tipdesk prints (SECURITY.md §3.6): the details can hold
                    // paths and names the reviewer typed.
                    let list = entries.map { Entry(seq: $0.seq, day: $0.day.text, action: $0.action.rawValue, details: $0.details, mac: $0.mac) }
                    out(TipJSON.line(list))
                    return
                }
                for e in entries {
                    let details = e.details.keys.sorted().map { "\($0)=\(e.details[$0]!)" }.joined(separator: " ")
                    out("\(col(String(e.seq), 6)) \(e.day)  \(col(e.action.rawValue, 8))  \(TerminalText.sanitize(details, multiline: false))")
                }
                if entries.isEmpty { note("the audit log is empty") }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's chain and its anchor; name the first bad entry.",
            discussion: """
                Recomputes every entry's MAC (keyed by the vault's data key) from the first, so an
                edited, removed or reordered entry is found. A log cut short at the end is caught
                against the head the last backup or ack recorded in VAULT/state.json, and against the
                audit_head of any ack file given with --ack. Exits 1 if anything is wrong.
                """)
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "An acknowledgement (tipdesk ack --out) whose audit head must be in the log (repeatable).") var ack: [String] = []

        func run() throws {
            try reporting {
                let desk = Desk(vault: vault.resolved)
                var heads = [String]()
                for file in ack {
                    guard let data = FileManager.default.contents(atPath: file) else { throw DeskError("cannot read \(file)") }
                    guard let root = try KeyAdmin(vault: desk.vault).rootDocument() else {
                        throw DeskError("this vault has no root key to check \(file) against")
                    }
                    do { heads.append(try AckSigner.verify(data, pin: .key(root.publicKey)).auditHead) } catch let e as FormatError {
                        throw DeskError("\(file) is not an acknowledgement signed by this vault's root: \(e.message)")
                    }
                }
                let v = try desk.session(passphrase.read()).verifyAudit(heads: heads)
                if let p = v.problem {
                    throw DeskError(
                        "the audit log does not verify: \(p.message)",
                        hints: [
                            p.seq > 1 ? "entries 1 to \(p.seq - 1) verify" : "no entry verifies", "compare with a backup: tipdesk restore FILE --vault NEW_DIR",
                        ])
                }
                out("ok: \(v.entries) entr\(v.entries == 1 ? "y" : "ies"), chain intact")
                if let h = v.head { out("head: \(h)") }
                if let a = v.anchorSeq {
                    out("anchor: entry \(a), recorded at the last backup or ack, matches")
                } else {
                    note("no backup or ack has recorded an anchor yet: a log cut short at the end cannot be detected until one does")
                }
                if !heads.isEmpty { out("ack heads: \(heads.count) found in the log") }
            }
        }
    }
}
