import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

@Suite struct ReviewTests {
    static let d1 = Day("2026-03-01")!, d2 = Day("2026-03-02")!, d3 = Day("2026-03-03")!

    /// Five tips over three days, imported.
    func vault() throws -> (DeskFixture, [TipID: String], [String: TipID]) {
        let f = DeskFixture()
        let key = try f.makeVault()
        let docs: [(String, Day)] = [("alpha", Self.d1), ("bravo", Self.d2), ("charlie", Self.d3), ("delta", Self.d3), ("echo", Self.d1)]
        let (url, tips) = try f.bundle(try docs.map { (try TipDocument(body: $0.0), $0.1) }, to: key)
        _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        let s = try f.session()
        var names = [TipID: String]()
        var ids = [String: TipID]()
        for t in try s.tips() {
            names[t.id] = t.document!.body
            ids[t.document!.body] = t.id
        }
        #expect(Set(tips.map(\.id)) == Set(names.keys))
        return (f, names, ids)
    }

    @Test func triageIsSetAndReadBack() throws {
        let (f, _, ids) = try vault()
        let s = try f.session()
        var c = TriageChange()
        c.status = .reviewing
        c.category = "forced_labour"
        c.urgency = .high
        c.addTags = ["brick", "north", "brick"]
        c.assignee = "AK"
        c.note = "called the hotline\nno answer"
        let r = try s.triage(ids["alpha"]!, c)
        #expect(r.changed == ["status", "category", "urgency", "tags", "assignee", "notes"])
        let t = try #require(try s.tip(ids["alpha"]!).triage)
        #expect(t.status == .reviewing && t.category == "forced_labour" && t.urgency == .high && t.assignee == "AK")
        let note = try Triage.Note(day: .today, text: "called the hotline\nno answer")
        #expect(t.tags == ["brick", "north"] && t.notes == [note])
        // Untag, unassign and a second note; the rest stays.
        var c2 = TriageChange()
        c2.removeTags = ["north"]
        c2.unassign = true
        c2.note = "second"
        _ = try s.triage(ids["alpha"]!, c2)
        let t2 = try #require(try s.tip(ids["alpha"]!).triage)
        #expect(t2.tags == ["brick"] && t2.assignee == nil && t2.notes.count == 2 && t2.status == .reviewing)
        // A category outside the taxonomy is refused, and nothing changes.
        var bad = TriageChange()
        bad.category = "made_up"
        bad.status = .spam
        #expect(throws: DeskError.self) { try s.triage(ids["alpha"]!, bad) }
        #expect(try s.tip(ids["alpha"]!).triage?.status == .reviewing)
        // The reviewer's taxonomy, when present, is the one in force.
        try f.vault.writePrivate(Data(#"{"categories":[{"id":"made_up","label":"Made up"},{"id":"other","label":"Other"}]}"#.utf8), to: f.vault.taxonomyURL)
        #expect(try s.triage(ids["alpha"]!, bad).triage.category == "made_up")
    }

    @Test func listFiltersAndSortsUrgencyThenNewestDay() throws {
        let (f, names, ids) = try vault()
        let s = try f.session()
        func set(_ name: String, _ u: Urgency?, _ st: TriageStatus, _ cat: String?, _ tags: [String]) throws {
            var c = TriageChange()
            c.urgency = u
            c.status = st
            c.category = cat
            c.addTags = tags
            _ = try s.triage(ids[name]!, c)
        }
        try set("alpha", .critical, .reviewing, "child_at_risk", ["a", "b"])
        try set("bravo", .low, .closed, "other", ["b"])
        try set("charlie", nil, .new, nil, [])
        try set("delta", .high, .reviewing, "forced_labour", ["a"])
        try set("echo", .normal, .spam, "other", [])
        func listed(_ configure: (inout TipFilter) -> Void = { _ in }) throws -> [String] {
            var filter = TipFilter()
            configure(&filter)
            return try s.list(filter).map { names[$0.id]! }
        }
        // Urgency first (no urgency sorts as normal); within normal, the newest day first.
        #expect(try listed() == ["alpha", "delta", "charlie", "echo", "bravo"])
        #expect(try listed { $0.statuses = [.reviewing] } == ["alpha", "delta"])
        #expect(try listed { $0.statuses = [.closed, .spam] } == ["echo", "bravo"])
        #expect(try listed { $0.categories = ["other"] } == ["echo", "bravo"])
        #expect(try listed { $0.urgencies = [.normal] } == ["echo"])
        #expect(try listed { $0.tags = ["a"] } == ["alpha", "delta"])
        #expect(try listed { $0.tags = ["a", "b"] } == ["alpha"])
        #expect(try listed { $0.since = Self.d2 } == ["delta", "charlie", "bravo"])
        #expect(try listed { $0.until = Self.d1 } == ["alpha", "echo"])
        #expect(try listed { ($0.since, $0.until) = (Self.d2, Self.d2) } == ["bravo"])
        #expect(try listed { ($0.statuses, $0.since) = ([.reviewing], Self.d3) } == ["delta"])
    }

    @Test func jsonIsStable() throws {
        let (f, _, ids) = try vault()
        let s = try f.session()
        var c = TriageChange()
        c.urgency = .high
        c.note = "n"
        _ = try s.triage(ids["bravo"]!, c)
        let a = TipJSON.encode(try s.list())
        let b = TipJSON.encode(try f.session().list())
        #expect(a == b)
        let parsed = try JSONSerialization.jsonObject(with: Data(a.utf8)) as! [[String: Any]]
        #expect(parsed.count == 5)
        #expect(Set(parsed[0].keys) == ["acked", "body", "day", "fields", "id", "instance", "key_id", "size_class", "triage"])
        let triage = parsed[0]["triage"] as! [String: Any]
        #expect(Set(triage.keys) == ["assignee", "category", "notes", "status", "tags", "urgency"])
        #expect(parsed[0]["body"] as? String == "bravo" && triage["urgency"] as? String == "high" && triage["category"] is NSNull)
        #expect((triage["notes"] as? [[String: String]])?.first == ["day": Day.today.text, "text": "n"])
        #expect(parsed[0]["size_class"] as? Int == 1024 && parsed[0]["acked"] as? Bool == false)
        // Keys are sorted: the text itself starts with "acked".
        #expect(a.hasPrefix(#"[{"acked":false,"body":"bravo","day":"2026-03-02","fields":{},"id":""#))
    }

    /// The corpus's tips get the rules' suggestions at import, shown and not applied; only
    /// `--accept-suggestions` applies them.
    @Test func suggestionsAreShownNotApplied() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let corpus = try String(contentsOf: Repo.root.appendingPathComponent("Tests/Fixtures/corpus-tips.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let docs = try corpus.map {
            (try TipDocument(body: $0["body"] as! String, fields: $0["fields"] as? [String: String] ?? [:], lang: $0["lang"] as? String), Day.today)
        }
        let (url, tips) = try f.bundle(docs, to: key)
        let r = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        let rules = try f.desk.suggester()
        let s = try f.session()
        var agree = 0
        for t in try s.tips() {
            let doc = try t.result.get()
            let expected = rules.suggest(doc)
            let shown = r.suggestions.first { $0.id == t.id }?.suggestion
            #expect(shown == (expected.category == nil && expected.urgency == nil ? nil : expected))
            #expect(t.triage == .untouched, "import applies nothing")
            let want = corpus.first { $0["body"] as? String == doc.body }!["expect"] as! [String: String]
            if expected.category == Taxonomy.seeded.id(forLabel: want["category"]!), expected.urgency?.rawValue == want["urgency"] { agree += 1 }
        }
        #expect(r.suggestions.count >= tips.count * 3 / 4, "the rules suggest something for most of the corpus")
        #expect(agree >= tips.count / 2, "and mostly what a reviewer would choose: \(agree)/\(tips.count)")
        // Accepting applies exactly the suggestion; an explicit urgency wins over it.
        let first = try #require(r.suggestions.first { $0.suggestion.category != nil && $0.suggestion.urgency != nil && $0.suggestion.urgency != .low })
        var accept = TriageChange()
        accept.acceptSuggestions = true
        let applied = try s.triage(first.id, accept)
        #expect(applied.triage.category == first.suggestion.category && applied.triage.urgency == first.suggestion.urgency)
        let second = try #require(r.suggestions.first { $0.id != first.id && $0.suggestion.category != nil })
        accept.urgency = .low
        let mixed = try s.triage(second.id, accept)
        #expect(mixed.triage.category == second.suggestion.category && mixed.triage.urgency == .low)
        #expect(try s.auditEntries().last?.details["accepted_suggestions"] == .bool(true))
    }

    /// Every thread count finds the same tips, for tip counts that do not divide evenly into
    /// chunks (100 tips on 2 threads once made a chunk start past the end, and trapped).
    @Test func searchOnAnyNumberOfThreads() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        for n in [1, 7, 100] {
            let docs = try (0..<n).map { (try TipDocument(body: $0 % 3 == 0 ? "паспорт \($0)" : "nothing \($0)"), Day.today) }
            let (url, _) = try f.bundle(docs, to: key)
            _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        }
        let s = try f.session()
        let expected = Set(try s.search("паспорт", threads: 1).map(\.id))
        #expect(expected.count == 1 + 3 + 34)
        for threads in [2, 3, 8, 64] {
            #expect(Set(try s.search("паспорт", threads: threads).map(\.id)) == expected, "\(threads) threads")
        }
    }

    @Test func searchFoldsCaseDiacriticsAndScripts() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let bodies = [
            "ru": "Хозяин забрал у них паспорта. Ещё одна девушка ждёт помощи.",
            "uz": "Ukam qurilishda ishlayapti, pasportini olib qoʻyishgan. Oʻzbekistonlik ishchilar.",
            "uz-Cyrl": "Фабрикада муҳожирлар ҳақ олмасдан ишлашяпти, ҳужжатлари хўжайинда.",
            "en": "Nothing to see here: a café on the corner.",
        ]
        let (url, _) = try f.bundle(
            try bodies.map { (try TipDocument(body: $0.value, fields: $0.key == "en" ? ["where": "Фабрика №3"] : [:], lang: $0.key), Day.today) }, to: key)
        _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        let s = try f.session()
        func found(_ q: String) throws -> Set<String> { Set(try s.search(q).map { $0.document!.lang! }) }
        // Russian: case, ё/е, stems.
        #expect(try found("паспорт") == ["ru"])
        #expect(try found("ПАСПОРТА") == ["ru"])
        #expect(try found("еще девушка") == ["ru"])
        #expect(try found("ещё") == ["ru"])
        // Uzbek Latin: with and without the okina, any apostrophe.
        #expect(try found("qo'yishgan") == ["uz"])
        #expect(try found("qoyishgan") == ["uz"])
        #expect(try found("ozbekiston") == ["uz"])
        #expect(try found("Oʻzbekiston") == ["uz"])
        // Uzbek Cyrillic: ҳ, ў, й typed on a Russian keyboard or not.
        #expect(try found("ҳужжат") == ["uz-Cyrl"])
        #expect(try found("хужжат") == ["uz-Cyrl"])
        #expect(try found("хўжайин") == ["uz-Cyrl"])
        #expect(try found("хужайин") == ["uz-Cyrl"])
        // Latin diacritics; fields are searched too; every word must match.
        #expect(try found("cafe") == ["en"])
        #expect(try found("фабрика") == ["uz-Cyrl", "en"])
        #expect(try found("фабрика паспорт").isEmpty)
        #expect(try found("pasport") == ["uz"])
    }

    @Test func relatedFindsNearDuplicatesAndSharedFields() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let base = "Three women are kept in the flat above the sauna on Lenin street and their passports were taken by the owner"
        let docs: [(String, TipDocument)] = [
            ("target", try TipDocument(body: base, fields: ["contact": "+7 999 123-45-67", "where": "Lenin street 5"])),
            ("dup", try TipDocument(body: base + " yesterday")),
            ("contact", try TipDocument(body: "A different story entirely", fields: ["contact": "+79991234567"])),
            ("place", try TipDocument(body: "Something else happened", fields: ["where": "lenin street, 5"])),
            ("none", try TipDocument(body: "Unrelated text about a farm", fields: ["contact": "none"])),
        ]
        let (url, _) = try f.bundle(docs.map { ($0.1, Day.today) }, to: key)
        _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        let s = try f.session()
        let byBody = Dictionary(uniqueKeysWithValues: try s.tips().map { ($0.document!.body, $0.id) })
        let name = Dictionary(uniqueKeysWithValues: docs.map { (byBody[$0.1.body]!, $0.0) })
        let found = try s.related(byBody[base]!)
        // The near-duplicate first (most similar); the two sharing a field after it, in either order.
        #expect(found.count == 3 && name[found[0].0.id] == "dup" && found[0].1.reasons == [.nearDuplicate])
        let rest = Dictionary(uniqueKeysWithValues: found.dropFirst().map { (name[$0.0.id]!, $0.1.reasons) })
        #expect(rest == ["contact": [.sameContact], "place": [.samePlace]])
    }
}
