import Foundation
import TipCore
import TipCrypto
import TipStore

/// One `tipdesk triage` command's changes. Suggestions are applied first, so an explicit
/// `--category` or `--urgency` in the same command wins over them.
public struct TriageChange: Equatable, Sendable {
    public var status: TriageStatus?
    public var category: String?
    public var urgency: Urgency?
    public var addTags: [String] = []
    public var removeTags: [String] = []
    public var assignee: String?
    public var unassign = false
    public var note: String?
    public var acceptSuggestions = false

    public init() {}

    public var isEmpty: Bool { self == TriageChange() }
}

public struct TriageResult: Equatable, Sendable {
    public let triage: Triage
    /// What the rules suggest for this tip now (whether or not it was accepted).
    public let suggestion: Rules.Suggestion
    /// The names of the members that changed.
    public let changed: [String]
}

extension VaultSession {
    /// Applies `change` to a tip's triage: decrypts its record, changes it, encrypts it again
    /// with a fresh nonce and records `triage` in the audit log (which members changed, never
    /// their values), all in one transaction. An empty change only reads.
    public func triage(_ id: TipID, _ change: TriageChange) throws -> TriageResult {
        let taxonomy = try desk.taxonomy()
        let rules = try desk.suggester()
        return try db.write { w in
            guard let rec = try w.record(id) else { throw DeskError("no tip with id \(id)", hints: ["see the ids with: tipdesk list"]) }
            guard let box = rec.box else {
                throw DeskError(
                    "tip \(id) has not opened, so it has no triage yet",
                    hints: ["if its key has arrived since, open it with: tipdesk reopen"])
            }
            let (doc, old) = try RecordBox.open(box, id: id, key: dataKey)
            let suggestion = rules.suggest(doc)
            var t = old
            if change.acceptSuggestions {
                if let c = suggestion.category { t.category = c }
                if let u = suggestion.urgency { t.urgency = u }
            }
            if let s = change.status { t.status = s }
            if let c = change.category { t.category = c }
            if let u = change.urgency { t.urgency = u }
            for tag in change.addTags { try Triage.validateTag(tag) }
            t.tags = Triage.normalizeTags(t.tags.filter { !change.removeTags.contains($0) } + change.addTags)
            if change.unassign { t.assignee = nil }
            if let a = change.assignee { t.assignee = a }
            if let n = change.note { t.notes.append(try Triage.Note(day: today, text: n)) }
            try t.validate(against: taxonomy)
            let changed = Self.changedMembers(old, t)
            if !changed.isEmpty {
                try w.replaceBox(id, box: RecordBox.seal(doc, t, id: id, key: dataKey))
                try AuditLog.append(
                    .triage,
                    ["ids": .strings([id.hex]), "changed": .strings(changed)].merging(
                        change.acceptSuggestions ? ["accepted_suggestions": .bool(true)] : [:]
                    ) { a, _ in a },
                    day: today, key: dataKey, in: w)
            }
            return TriageResult(triage: t, suggestion: suggestion, changed: changed)
        }
    }

    static func changedMembers(_ a: Triage, _ b: Triage) -> [String] {
        var out = [String]()
        if a.status != b.status { out.append("status") }
        if a.category != b.category { out.append("category") }
        if a.urgency != b.urgency { out.append("urgency") }
        if a.tags != b.tags { out.append("tags") }
        if a.assignee != b.assignee { out.append("assignee") }
        if a.notes != b.notes { out.append("notes") }
        return out
    }
}
