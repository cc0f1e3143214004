import Foundation
import TipCore

/// Where a tip is in the reviewer's work.
public enum TriageStatus: String, Codable, CaseIterable, Sendable {
    case new, reviewing, forwarded, closed, spam
}

/// How soon someone must act on a tip.
public enum Urgency: String, Codable, CaseIterable, Sendable, Comparable {
    case critical, high, normal, low

    /// Sort key: critical is 0, so sorting by rank puts the most urgent first.
    public var rank: Int {
        switch self {
        case .critical: 0
        case .high: 1
        case .normal: 2
        case .low: 3
        }
    }

    /// Ordered by rank: `critical < high`, so `min()` is the most urgent.
    public static func < (lhs: Urgency, rhs: Urgency) -> Bool { lhs.rank < rhs.rank }
}

/// The reviewer's own record of a tip, kept apart from the sealed tip itself (which never
/// changes). Everything here is the reviewer's words, not the witness's, but it still says
/// what a tip is about, so the vault must keep it as private as the tips.
public struct Triage: Codable, Equatable, Sendable {
    public static let maxTagBytes = 64
    public static let maxNoteBytes = 8192
    /// Bounds for free text the reviewer types; generous, but a paste of a whole tip into a
    /// tag or assignee is a mistake worth stopping.
    public static let maxCategoryBytes = 40
    public static let maxAssigneeBytes = 128

    /// One dated remark. A day, not a time: SECURITY.md §1 keeps times of day out of every
    /// record, and a reviewer's notes are no exception.
    public struct Note: Codable, Equatable, Sendable {
        public var day: Day
        public var text: String

        public init(day: Day, text: String) throws {
            self.day = day
            self.text = text
            try validate()
        }

        public func validate() throws {
            let n = text.utf8.count
            guard n >= 1, n <= Triage.maxNoteBytes else {
                throw DeskError(
                    "a note is 1 to \(Triage.maxNoteBytes) bytes, this one is \(n)",
                    hints: ["split a long note into several"])
            }
            guard !text.unicodeScalars.contains(where: Triage.isForbiddenInNote) else {
                throw DeskError(
                    "a note contains a control character",
                    hints: ["notes may hold line breaks and tabs, but no other control or direction-override characters"])
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            day = try c.decode(Day.self, forKey: .day)
            text = try c.decode(String.self, forKey: .text)
            try validate()
        }
    }

    public var status: TriageStatus
    /// A `Taxonomy` id. Checked for shape here; whether the id is in the reviewer's taxonomy
    /// is checked by `validate(against:)`, since the taxonomy is editable and may change.
    public var category: String?
    public var urgency: Urgency?
    /// Sorted and unique: `init` and `normalizeTags` keep them so, and decoding rejects
    /// anything else, so two equal triages always encode to the same bytes.
    public var tags: [String]
    public var assignee: String?
    public var notes: [Note]

    public init(
        status: TriageStatus = .new, category: String? = nil, urgency: Urgency? = nil, tags: [String] = [],
        assignee: String? = nil, notes: [Note] = []
    ) throws {
        self.status = status
        self.category = category
        self.urgency = urgency
        self.tags = Self.normalizeTags(tags)
        self.assignee = assignee
        self.notes = notes
        try validate()
    }

    /// The triage of a tip nobody has looked at yet.
    public static let untouched = try! Triage()

    /// Sorts and removes duplicates. Validation still rejects bad tags; this only orders.
    public static func normalizeTags(_ tags: [String]) -> [String] { Array(Set(tags)).sorted() }

    /// Checks every bound. Call after changing a field in place.
    public func validate() throws {
        if let category {
            guard Taxonomy.isValidID(category) else {
                throw DeskError(
                    "\(TerminalText.preview(category, limit: 50)) is not a category id",
                    hints: ["category ids are 1 to 40 characters of a-z, 0-9 and _, like forced_labour"])
            }
        }
        for tag in tags {
            try Self.validateTag(tag)
        }
        guard tags == Self.normalizeTags(tags) else {
            throw DeskError("the tags are not sorted and unique", hints: ["build a triage with Triage(tags:), which sorts them"])
        }
        if let assignee {
            let n = assignee.utf8.count
            guard n >= 1, n <= Self.maxAssigneeBytes, !assignee.unicodeScalars.contains(where: Self.isControl) else {
                throw DeskError(
                    "an assignee is 1 to \(Self.maxAssigneeBytes) bytes with no control characters",
                    hints: ["use a short name or initials"])
            }
        }
        for note in notes {
            try note.validate()
        }
    }

    /// Also checks that the category is in the reviewer's taxonomy.
    public func validate(against taxonomy: Taxonomy) throws {
        try validate()
        if let category, !taxonomy.contains(category) {
            throw DeskError(
                "\(category) is not a category in the taxonomy",
                hints: ["the categories are: " + taxonomy.categories.map(\.id).joined(separator: ", ")])
        }
    }

    public static func validateTag(_ tag: String) throws {
        let n = tag.utf8.count
        guard n >= 1, n <= maxTagBytes else {
            throw DeskError(
                "a tag is 1 to \(maxTagBytes) bytes, \(TerminalText.preview(tag, limit: 30)) is \(n)",
                hints: ["use a short label, and put longer remarks in a note"])
        }
        guard !tag.unicodeScalars.contains(where: isControl) else {
            throw DeskError("a tag contains a control character", hints: ["tags are one line of plain text"])
        }
    }

    /// C0, DEL and C1 controls, and the bidirectional overrides that make a terminal show text
    /// in another order than it is stored (the same set `TipJSON` escapes).
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1f, 0x7f...0x9f: true
        default: TerminalText.isBidiControl(u)
        }
    }

    static func isForbiddenInNote(_ u: Unicode.Scalar) -> Bool {
        u != "\n" && u != "\t" && isControl(u)
    }

    // Decoding validates, so a damaged or hand-edited record cannot carry bad values in.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decodeIfPresent(TriageStatus.self, forKey: .status) ?? .new
        category = try c.decodeIfPresent(String.self, forKey: .category)
        urgency = try c.decodeIfPresent(Urgency.self, forKey: .urgency)
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        assignee = try c.decodeIfPresent(String.self, forKey: .assignee)
        notes = try c.decodeIfPresent([Note].self, forKey: .notes) ?? []
        try validate()
    }
}
