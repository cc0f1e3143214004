import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct TriageCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "triage",
            abstract: "Show or change a tip's triage: status, category, urgency, tags, assignee, notes.",
            discussion: """
                Without changes, prints the triage. Categories are the ids (or labels) of the vault's
                taxonomy: VAULT/taxonomy.json if present (tipdesk categories --init writes the seeded one
                to edit), else the seeded list. --accept-suggestions applies the category and urgency the
                rules suggest (tipdesk show); an explicit --category or --urgency wins over them.
                The triage is stored encrypted with the tip; the audit log records which members
                changed, never their values.
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Argument(help: "The tip id, or at least 6 of its first hex digits.") var id: String
        @Option(help: "new, reviewing, forwarded, closed or spam.") var status: TriageStatus?
        @Option(help: "A category id or label from the taxonomy.") var category: String?
        @Option(help: "critical, high, normal or low.") var urgency: Urgency?
        @Option(help: "Add a tag (repeatable).") var tag: [String] = []
        @Option(help: "Remove a tag (repeatable).") var untag: [String] = []
        @Option(help: "Assign the tip to someone (a short name or initials).") var assign: String?
        @Flag(help: "Remove the assignee.") var unassign = false
        @Option(name: .customLong("note"), help: "Append a dated note.") var noteText: String?
        @Flag(help: "Apply the category and urgency the rules suggest.") var acceptSuggestions = false
        @Flag(help: "Print the triage as JSON.") var json = false

        func validate() throws {
            guard !(unassign && assign != nil) else { throw ValidationError("give --assign or --unassign, not both") }
        }

        func run() throws {
            try reporting {
                let desk = Desk(vault: vault.resolved)
                let id = try desk.find(id)
                var change = TriageChange()
                change.status = status
                if let category {
                    let taxonomy = try desk.taxonomy()
                    change.category = taxonomy.contains(category) ? category : (taxonomy.id(forLabel: category) ?? category)
                }
                change.urgency = urgency
                change.addTags = tag
                change.removeTags = untag
                change.assignee = assign
                change.unassign = unassign
                change.note = noteText
                change.acceptSuggestions = acceptSuggestions
                let session = try desk.session(passphrase.read())
                let r = try session.triage(id, change)
                let t = r.triage
                if json {
                    out(TipJSON.encode(t))
                    return
                }
                if !change.isEmpty {
                    note(r.changed.isEmpty ? "nothing changed" : "changed: \(r.changed.joined(separator: ", "))")
                }
                out("status:   \(t.status.rawValue)")
                out("urgency:  \(t.urgency?.rawValue ?? "-")")
                out("category: \(t.category ?? "-")")
                out("tags:     \(t.tags.isEmpty ? "-" : t.tags.map { TerminalText.sanitize($0, multiline: false) }.joined(separator: ", "))")
                out("assigned: \(TerminalText.sanitize(t.assignee ?? "-", multiline: false))")
                for n in t.notes { out("note \(n.day): \(TerminalText.sanitize(n.text))") }
                if !acceptSuggestions, let text = describe(r.suggestion),
                    r.suggestion.category.map({ $0 != t.category }) ?? false || r.suggestion.urgency.map({ $0 != t.urgency }) ?? false
                {
                    out("suggested: \(text); accept with --accept-suggestions")
                }
            }
        }
    }
}
