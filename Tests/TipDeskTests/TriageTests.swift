import Foundation
import Testing
import TipCore

@testable import TipDesk

@Suite struct TriageTests {
    let day = Day("2025-03-14")!

    @Test func defaultsAreAnUntouchedTip() throws {
        let t = try Triage()
        #expect(t.status == .new)
        #expect(t.category == nil && t.urgency == nil && t.assignee == nil)
        #expect(t.tags.isEmpty && t.notes.isEmpty)
        #expect(t == Triage.untouched)
    }

    @Test func enumsHaveStableRawValues() {
        #expect(TriageStatus.allCases.map(\.rawValue) == ["new", "reviewing", "forwarded", "closed", "spam"])
        #expect(Urgency.allCases.map(\.rawValue) == ["critical", "high", "normal", "low"])
    }

    @Test func urgencySortsMostUrgentFirst() {
        #expect([Urgency.low, .critical, .normal, .high].sorted() == [.critical, .high, .normal, .low])
        #expect([Urgency.low, .critical, .normal, .high].sorted { $0.rank < $1.rank } == [.critical, .high, .normal, .low])
        #expect([Urgency.normal, .high].min() == .high)
        #expect(Urgency.critical.rank == 0)
    }

    @Test func tagsAreSortedAndUnique() throws {
        let t = try Triage(tags: ["sauna", "lenin-street", "sauna", "Ёлка"])
        #expect(t.tags == ["lenin-street", "sauna", "Ёлка"])
    }

    @Test func tagBounds() throws {
        _ = try Triage(tags: [String(repeating: "a", count: 64)])
        _ = try Triage(tags: [String(repeating: "ж", count: 32)])  // 64 bytes
        #expect(throws: DeskError.self) { try Triage(tags: [String(repeating: "a", count: 65)]) }
        #expect(throws: DeskError.self) { try Triage(tags: [String(repeating: "ж", count: 33)]) }
        #expect(throws: DeskError.self) { try Triage(tags: [""]) }
        #expect(throws: DeskError.self) { try Triage(tags: ["two\nlines"]) }
        #expect(throws: DeskError.self) { try Triage(tags: ["bidi\u{202e}gat"]) }
        #expect(throws: DeskError.self) { try Triage(tags: ["c1\u{85}"]) }
    }

    @Test func notesAreBoundedAndMayHaveLineBreaks() throws {
        _ = try Triage.Note(day: day, text: "called the hotline\n\tno answer")
        _ = try Triage.Note(day: day, text: String(repeating: "a", count: 8192))
        #expect(throws: DeskError.self) { try Triage.Note(day: day, text: String(repeating: "a", count: 8193)) }
        #expect(throws: DeskError.self) { try Triage.Note(day: day, text: "") }
        #expect(throws: DeskError.self) { try Triage.Note(day: day, text: "escape \u{1b}[2J") }
    }

    @Test func categoryIsAnIDAndCheckedAgainstTheTaxonomy() throws {
        let t = try Triage(category: "forced_labour")
        try t.validate(against: .seeded)
        #expect(throws: DeskError.self) { try Triage(category: "Forced labour") }
        #expect(throws: DeskError.self) { try Triage(category: "") }
        let unknown = try Triage(category: "organ_trade")
        #expect(throws: DeskError.self) { try unknown.validate(against: .seeded) }
    }

    @Test func assigneeBounds() throws {
        _ = try Triage(assignee: "Айгүл")
        #expect(throws: DeskError.self) { try Triage(assignee: "") }
        #expect(throws: DeskError.self) { try Triage(assignee: String(repeating: "a", count: 129)) }
        #expect(throws: DeskError.self) { try Triage(assignee: "a\u{7}") }
    }

    @Test func validateCatchesInPlaceEdits() throws {
        var t = try Triage()
        t.tags = ["b", "a"]
        #expect(throws: DeskError.self) { try t.validate() }
        t.tags = Triage.normalizeTags(t.tags)
        try t.validate()
    }

    @Test func codableRoundTripAndValidationOnDecode() throws {
        let t = try Triage(
            status: .forwarded, category: "debt_bondage", urgency: .high, tags: ["b", "a"], assignee: "NK",
            notes: [try Triage.Note(day: day, text: "sent to partner NGO")])
        let data = try JSONEncoder().encode(t)
        #expect(try JSONDecoder().decode(Triage.self, from: data) == t)
        #expect(try JSONDecoder().decode(Triage.self, from: Data("{}".utf8)) == Triage.untouched)

        let bad = [
            #"{"tags":["b","a"]}"#,
            #"{"status":"archived"}"#,
            #"{"urgency":"urgent"}"#,
            #"{"category":"Not An Id"}"#,
            #"{"notes":[{"day":"2025-02-30","text":"x"}]}"#,
            #"{"notes":[{"day":"2025-02-03","text":""}]}"#,
        ]
        for json in bad {
            #expect(throws: (any Error).self, "\(json)") { try JSONDecoder().decode(Triage.self, from: Data(json.utf8)) }
        }
    }
}

@Suite struct TaxonomyTests {
    @Test func seededCategories() {
        #expect(
            Taxonomy.seeded.categories.map(\.id) == [
                "sexual_exploitation", "forced_labour", "child_at_risk", "debt_bondage", "document_confiscation",
                "official_complicity", "supply_chain", "other",
            ])
        #expect(Taxonomy.seeded.label(for: "child_at_risk") == "Child at risk")
        #expect(Taxonomy.seeded.contains("other"))
        #expect(!Taxonomy.seeded.contains("Other"))
        #expect(Taxonomy.seeded.id(forLabel: "forced labour") == "forced_labour")
        #expect(Taxonomy.seeded.id(forLabel: "nothing like it") == nil)
    }

    @Test func roundTripKeepsOrderAndEdits() throws {
        let text = #"{"categories":[{"id":"other","label":"Другое"},{"id":"organ_trade","label":"Organ trade"}]}"#
        let t = try Taxonomy.decode(Data(text.utf8))
        #expect(t.categories.map(\.id) == ["other", "organ_trade"])
        #expect(t.contains("organ_trade") && !t.contains("forced_labour"))
        #expect(try Taxonomy.decode(t.encoded()) == t)
        #expect(try Taxonomy.decode(Taxonomy.seeded.encoded()) == Taxonomy.seeded)
    }

    @Test(arguments: [
        #"{"categories":[]}"#,
        #"{"categories":[{"id":"a","label":"A"},{"id":"a","label":"B"}]}"#,
        #"{"categories":[{"id":"Forced-Labour","label":"A"}]}"#,
        #"{"categories":[{"id":"a23456789012345678901234567890123456789012","label":"A"}]}"#,
        #"{"categories":[{"id":"","label":"A"}]}"#,
        #"{"categories":[{"id":"a","label":""}]}"#,
        #"{"categories":[{"id":"a","label":"A","colour":"red"}]}"#,
        #"{"categories":[{"id":"a","label":"A"}],"v":1}"#,
        #"{"categories":[{"id":"a"}]}"#,
        #"[1,2]"#,
        "not json",
    ])
    func rejectsInvalidConfigs(_ text: String) {
        #expect(throws: DeskError.self) { try Taxonomy.decode(Data(text.utf8)) }
    }

    @Test func idShape() {
        #expect(Taxonomy.isValidID("a"))
        #expect(Taxonomy.isValidID(String(repeating: "z", count: 40)))
        #expect(Taxonomy.isValidID("child_at_risk_2"))
        #expect(!Taxonomy.isValidID(String(repeating: "z", count: 41)))
        #expect(!Taxonomy.isValidID("ребенок"))
        #expect(!Taxonomy.isValidID("a b"))
    }
}
