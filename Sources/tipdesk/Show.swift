import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt and show one tip, its triage and what the rules suggest.",
            discussion: """
                Nothing is written to disk unless --out is given: then the tip is exported as JSON to
                a new file (mode 0600, never replacing one), and the export is recorded in the audit
                log. That file is plaintext: keep it on this offline machine and delete it when done.
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Flag(help: "Print JSON instead of text.") var json = false
        @Option(name: .customLong("out"), help: "Export the tip as JSON to this new file (plaintext on disk).") var outFile: String?
        @Argument(help: "The tip id, or at least 6 of its first hex digits.") var id: String

        func run() throws {
            try reporting {
                let desk = Desk(vault: vault.resolved)
                let id = try desk.find(id)
                let session = try desk.session(passphrase.read())
                let rules = try desk.suggester()
                if let outFile {
                    let doc = try session.tip(id).result.get()
                    try session.export(id, to: URL(fileURLWithPath: outFile), suggestion: rules.suggest(doc))
                    note("exported tip \(id) to \(outFile): it is plaintext; delete it when done")
                    return
                }
                let t = try session.show(id)
                let suggestion = t.document.map(rules.suggest)
                let forward = try session.receivedForward(id)
                if json {
                    out(
                        TipJSON.encode(
                            [t], suggestions: suggestion.flatMap { describe($0) == nil ? nil : [id: $0] } ?? [:],
                            forwards: forward.map { [id: $0] } ?? [:]))
                    return
                }
                let doc = try t.result.get()
                let tr = t.triage ?? .untouched
                out("id:       \(t.id)")
                out("day:      \(t.day)")
                out("key:      \(t.keyID)")
                out("server:   \(t.instance == carriedInstance ? "- (carried as a file)" : t.instance)")
                if let f = forward {
                    let v = f.verification
                    // What the sender says is only its word until the forward verifies (§11.5).
                    let theirs = v.isVerified ? "their" : "UNVERIFIED"
                    if v.isVerified {
                        out("from:     forwarded by \(TerminalText.sanitize(v.org ?? "-", multiline: false)) (verified); tip of \(f.document.day)")
                    } else {
                        out("from:     WARNING: a forward that does not verify (\(v.status.rawValue)): \(v.message)")
                        if v.status == .unknownOrg {
                            out("          do not trust what it says about its sender. If you expect forwards from this organization,")
                            out(
                                "          get its root fingerprint from it over a channel you trust, then: tipdesk orgs add NAME --keyring FILE --fingerprint FP"
                            )
                        }
                    }
                    if let n = f.document.note { out("\(theirs) note: \(TerminalText.sanitize(n))") }
                    out("\(theirs) triage: category \(f.document.category ?? "-"), urgency \(f.document.urgency ?? "-")")
                }
                out("lang:     \(TerminalText.sanitize(doc.lang ?? "-", multiline: false))")
                for k in doc.fields.keys.sorted() {
                    out("field:    \(TerminalText.sanitize(k, multiline: false)): \(TerminalText.sanitize(doc.fields[k]!, multiline: false))")
                }
                out("status:   \(tr.status.rawValue)\(t.acked ? " (acknowledged to the server)" : "")")
                out("urgency:  \(tr.urgency?.rawValue ?? "-")")
                out("category: \(tr.category ?? "-")")
                out("tags:     \(tr.tags.isEmpty ? "-" : tr.tags.map { TerminalText.sanitize($0, multiline: false) }.joined(separator: ", "))")
                out("assigned: \(TerminalText.sanitize(tr.assignee ?? "-", multiline: false))")
                if let s = suggestion, s.category.map({ $0 != tr.category }) ?? false || s.urgency.map({ $0 != tr.urgency }) ?? false,
                    let text = describe(s)
                {
                    out("suggested: \(text); accept with: tipdesk triage \(t.id.hex.prefix(12)) --accept-suggestions")
                }
                for p in try session.suggestedPartners(for: tr.category ?? suggestion?.category) {
                    out(
                        "partner:  \(TerminalText.sanitize(p.name, multiline: false)) accepts \(tr.category ?? suggestion?.category ?? "-"); forward with: tipdesk forward \(t.id.hex.prefix(12)) --to '\(TerminalText.sanitize(p.name, multiline: false))'"
                    )
                }
                for n in tr.notes { out("note \(n.day): \(TerminalText.sanitize(n.text))") }
                out("")
                out(TerminalText.sanitize(doc.body))
            }
        }
    }
}
