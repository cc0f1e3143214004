import Foundation
import Testing
import TipCore

@testable import TipDesk

@Suite struct RelatedTests {
    func id(_ n: Int) -> TipID { TipID(String(format: "%032x", n))! }

    let original =
        "Three women from Kyrgyzstan are kept in an apartment above the sauna on Lenin street. Their passports were taken by the owner and they are not allowed to leave. One of them looks about 16."

    @Test func nearDuplicatesWithSmallEditsAreFoundAndScored() {
        let edited =
            "Three women from Kyrgyzstan are kept in the apartment above the sauna on Lenin street! Their passports were taken by the owner, and they are not allowed to leave. One of them looks about 15."
        let recased = original.uppercased().replacingOccurrences(of: ".", with: " ;")
        let items = [
            RelatedItem(id: id(1), body: original),
            RelatedItem(id: id(2), body: edited),
            RelatedItem(id: id(3), body: "Workers at the brick factory outside town sleep in a locked barrack."),
            RelatedItem(id: id(4), body: recased),
        ]
        let found = Related.find(id(1), in: items)
        #expect(found.map(\.id) == [id(4), id(2)])
        #expect(found[0].similarity == 1)
        #expect(found[0].reasons == [.nearDuplicate])
        #expect(found[1].similarity >= 0.5 && found[1].similarity < 1)
        #expect(found[1].reasons == [.nearDuplicate])
    }

    @Test func unrelatedTextsAreNotRelated() {
        let items = [
            RelatedItem(id: id(1), body: original),
            RelatedItem(
                id: id(2), body: "Workers at the brick factory outside town sleep in a locked barrack and are told they owe money."),
            RelatedItem(id: id(3), body: "Участковый знает про бордель и получает деньги."),
            // Same topic and many shared words, but another text: below the threshold.
            RelatedItem(id: id(4), body: "Two women from Uzbekistan are kept in a house near the market. The owner has their passports."),
        ]
        #expect(Related.find(id(1), in: items).isEmpty)
        #expect(Related.jaccard(Related.shingles(original), Related.shingles(items[3].body)) < 0.5)
    }

    @Test func sharedContactOrPlaceIsAReason() {
        let items = [
            RelatedItem(id: id(1), body: "first tip", fields: ["contact": "+7 999 123-45-67", "where": "ул. Гагарина, 12"]),
            RelatedItem(id: id(2), body: "a completely different text", fields: ["contact": "+79991234567"]),
            RelatedItem(id: id(3), body: "another one", fields: ["where": "УЛ ГАГАРИНА 12"]),
            RelatedItem(id: id(4), body: "and another", fields: ["Contact": "+7 (999) 123 45 67", "Where": "ул Гагарина 12"]),
            RelatedItem(id: id(5), body: "unrelated", fields: ["contact": "+7 999 000 00 00", "where": "ул. Ленина, 12"]),
        ]
        let found = Related.find(id(1), in: items)
        #expect(found.map(\.id) == [id(2), id(3), id(4)])
        #expect(found.map(\.reasons) == [[.sameContact], [.samePlace], [.sameContact, .samePlace]])
        #expect(found.allSatisfy { $0.similarity < 0.5 })
    }

    @Test func nonAnswersAndTinyValuesDoNotLinkTips() {
        let items = [
            RelatedItem(id: id(1), body: "one", fields: ["contact": "нет", "where": "none"]),
            RelatedItem(id: id(2), body: "two", fields: ["contact": "нет", "where": "None."]),
            RelatedItem(id: id(3), body: "three", fields: ["contact": "-", "where": "Anonymous"]),
            RelatedItem(id: id(4), body: "four", fields: ["contact": "-", "where": "anonymous"]),
        ]
        #expect(Related.find(id(1), in: items).isEmpty)
        #expect(Related.find(id(3), in: items).isEmpty)
    }

    @Test func reasonsCombine() {
        let items = [
            RelatedItem(id: id(1), body: original, fields: ["where": "Lenin street, near the bus depot"]),
            RelatedItem(id: id(2), body: original, fields: ["where": "lenin street near the bus depot"]),
        ]
        #expect(Related.find(id(1), in: items) == [RelatedMatch(id: id(2), similarity: 1, reasons: [.nearDuplicate, .samePlace])])
    }

    @Test func shortTextsAndEdgeCases() {
        #expect(Related.shingles("Help!") == ["help"])
        #expect(Related.shingles("help me") == ["help me"])
        #expect(Related.shingles("a b c d").count == 2)
        #expect(Related.shingles("...").isEmpty)
        #expect(Related.jaccard([], []) == 0)
        let items = [RelatedItem(id: id(1), body: "Help me"), RelatedItem(id: id(2), body: "help, me!")]
        #expect(Related.find(id(1), in: items).map(\.id) == [id(2)])
        #expect(Related.find(id(9), in: items).isEmpty)
        #expect(Related.find(id(1), in: [items[0]]).isEmpty)
    }

    @Test func thresholdIsAParameter() {
        let a = "one two three four five six"
        // Three shingles in common out of five distinct ones: 0.6.
        let b = "one two three four five seven"
        let items = [RelatedItem(id: id(1), body: a), RelatedItem(id: id(2), body: b)]
        let score = Related.jaccard(Related.shingles(a), Related.shingles(b))
        #expect(abs(score - 3.0 / 5.0) < 1e-9)
        #expect(Related.find(id(1), in: items).count == 1)
        #expect(Related.find(id(1), in: items, threshold: 0.7).isEmpty)
    }
}
