import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Forward: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forward a tip to a partner: redacted, signed, sealed to the partner's key, and logged.",
            discussion: """
                The witness's contact field is left out unless --include-contact is given. Each
                --redact-text phrase becomes █ wherever it occurs, in any letter case; a phrase that
                does not occur is refused, as a likely typo. The sealed forward is written to the
                partner's outbox directory, or, for a partner's tipgate, to --outbox DIR for:
                tipdesk courier deliver DIR (on the online machine).
                """)
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The tip id, or at least 6 of its first hex digits.") var id: String
        @Option(help: "The partner's name (tipdesk partners list).") var to: String
        @Option(help: "A field to leave out (repeatable).") var redact: [String] = []
        @Option(help: "A phrase to replace with █ (repeatable).") var redactText: [String] = []
        @Option(help: "Send the body in this UTF-8 file instead of the witness's (recorded in the audit log).") var bodyFile: String?
        @Option(help: "A note to the partner.") var note: String?
        @Flag(help: "Share the witness's contact field too.") var includeContact = false
        @Option(help: "For a partner's tipgate: the directory the courier carries (not inside the vault).") var outbox: String?

        func validate() throws {
            guard !(includeContact && redact.contains("contact")) else {
                throw ValidationError("--include-contact and --redact contact contradict each other")
            }
        }

        func run() throws {
            try reporting {
                let desk = Desk(vault: vault.resolved)
                let tipID = try desk.find(id)
                var req = ForwardRequest(partner: to)
                req.redactFields = redact
                req.redactPhrases = redactText
                req.note = note
                req.includeContact = includeContact
                req.outbox = outbox.map { URL(fileURLWithPath: $0) }
                if let bodyFile {
                    guard let data = FileManager.default.contents(atPath: bodyFile), let text = String(data: data, encoding: .utf8) else {
                        throw DeskError("cannot read \(bodyFile) as UTF-8 text")
                    }
                    req.body = text
                }
                let r = try desk.session(passphrase.read()).forward(tipID, req)
                out("forwarded tip \(tipID.hex.prefix(12)) to \(r.partner)")
                // Field names come from whoever sealed the tip (§3.6).
                func names(_ a: [String]) -> String { a.isEmpty ? "-" : a.map { TerminalText.preview($0, limit: 40) }.joined(separator: ", ") }
                out("  fields shared:   \(names(r.sharedFields))")
                out("  fields withheld: \(names(r.redactedFields))")
                out("  phrases redacted: \(r.redactedPhrases)\(r.bodyEdited ? "; body edited" : "")")
                out("  sealed file:     \(TerminalText.preview(r.file.path, limit: 200))")
            }
        }
    }

    struct Forwards: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the forwards sent, from the audit log.")
        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Flag(help: "Print JSON lines instead of text.") var json = false

        func run() throws {
            try reporting {
                let entries = try Desk(vault: vault.resolved).session(passphrase.read()).forwards()
                for e in entries {
                    if json {
                        var o = e.details
                        o["day"] = .string(e.day.text)
                        out(TipJSON.line(o))
                        continue
                    }
                    let d = e.details
                    out(
                        "\(e.day)  \(d["ids"]?.description.prefix(12) ?? "-")  to \(TerminalText.sanitize(d["partner"]?.description ?? "-", multiline: false))"
                            + "  fields \(d["fields"]?.description ?? "-")  withheld \(d["redacted_fields"]?.description ?? "-")"
                            + "  phrases \(d["redacted_phrases"]?.description ?? "0")\(d["body_edited"] == .bool(true) ? "  body edited" : "")"
                            + "  sent \(d["sent_blake2b"]?.description.prefix(16) ?? "-")…")
                }
            }
        }
    }
}
