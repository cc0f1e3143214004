import Foundation
import Testing
import TipCore

@testable import TipDesk

@Suite struct TextSearchTests {
    @Test(arguments: [
        ("Ёлка, Йод!", "елка иод"),
        ("  Crème   brûlée —\tok ", "creme brulee ok"),
        (
            "Oʻzbekiston O‘zbekiston O'zbekiston Oʼzbekiston O’zbekiston O`zbekiston",
            "ozbekiston ozbekiston ozbekiston ozbekiston ozbekiston ozbekiston"
        ),
        ("Gʻisht, g'isht", "gisht gisht"),
        ("ҲУЖЖАТЛАРИ хўжайинда", "хужжатлари хужаиинда"),
        ("ғ қ ҳ ҷ ң ө ү ӣ ӯ ў і ї є ґ", "г к х ч н о у и у у и и е г"),
        ("Ғ Қ Ҳ Ҷ Ң Ө Ү Ӣ Ӯ Ў І Ї Є Ґ", "г к х ч н о у и у у и и е г"),
        ("вб'ють, don't", "вбють dont"),
        ("14-соларо", "14 соларо"),
        ("ул. Гагарина, д.12", "ул гагарина д 12"),
        ("", ""),
        ("?!…", ""),
    ])
    func normalize(_ input: String, _ expected: String) {
        #expect(TextSearch.normalize(input) == expected)
    }

    @Test func keepsOtherCyrillicLettersDistinct() {
        #expect(TextSearch.normalize("ы ь ъ э ю я ш щ ж") == "ы ь ъ э ю я ш щ ж")
        #expect(TextSearch.normalize("сел") != TextSearch.normalize("съел"))
    }

    @Test func russianWithAndWithoutDiacriticsAndCase() {
        let text = ["Хозяин забрал у них паспорта. Её ВЕРНУЛИ обратно ещё вчера."]
        #expect(TextSearch.matches(query: "паспорт", in: text))
        #expect(TextSearch.matches(query: "ПАСПОРТ хозяин", in: text))
        #expect(TextSearch.matches(query: "ее вернули", in: text))
        #expect(TextSearch.matches(query: "её Вернули ЕЩЕ", in: text))
        #expect(!TextSearch.matches(query: "паспорт полиция", in: text))
    }

    @Test func uzbekLatinWithAndWithoutOkina() {
        let text = ["Ukam qurilishda ishlayapti, pasportini olib qoʻyishgan. Gʻisht zavodi."]
        #expect(TextSearch.matches(query: "qoyishgan", in: text))
        #expect(TextSearch.matches(query: "qo'yishgan", in: text))
        #expect(TextSearch.matches(query: "QO‘YISHGAN pasport", in: text))
        #expect(TextSearch.matches(query: "gisht", in: text))
        #expect(!TextSearch.matches(query: "qarz", in: text))
    }

    @Test func uzbekCyrillicWithAndWithoutSpecialLetters() {
        let text = ["Фабрикада муҳожирлар ҳақ олмасдан ишлашяпти, ҳужжатлари хўжайинда."]
        #expect(TextSearch.matches(query: "хужжат", in: text))
        #expect(TextSearch.matches(query: "ҲУЖЖАТ", in: text))
        #expect(TextSearch.matches(query: "мухожир хужайин", in: text))
        #expect(TextSearch.matches(query: "хўжайин", in: text))
        #expect(TextSearch.matches(query: "хак", in: text))
        #expect(!TextSearch.matches(query: "паспорт", in: text))
    }

    @Test func tajikKyrgyzAndUkrainian() {
        #expect(TextSearch.matches(query: "хуччат шиноснома", in: ["Ҳуҷҷатҳояшон ва шиносномаашро гирифтаанд."]))
        #expect(TextSearch.matches(query: "карызсынар толобой", in: ["Акча төлөбөй жатышат, карызсыңар дешет."]))
        #expect(TextSearch.matches(query: "вбють гуртожиток", in: ["Вона боїться, що її вб'ють. Гуртожиток."]))
    }

    @Test func everyQueryWordMayBeInAnyText() {
        let texts = ["Three women are kept above the sauna.", "Lenin street, near the bus depot"]
        #expect(TextSearch.matches(query: "sauna lenin", in: texts))
        #expect(TextSearch.matches(query: "", in: texts))
        #expect(TextSearch.matches(query: " , ", in: texts))
        #expect(!TextSearch.matches(query: "sauna gagarin", in: texts))
    }

    @Test func searchKeepsInputOrder() {
        let items: [(TipID, [String])] = [
            (id(3), ["паспорт забрали"]), (id(1), ["nothing"]), (id(2), ["pasport", "ПАСПОРТА у хозяина"]),
        ]
        #expect(TextSearch.search("паспорт", in: items) == [id(3), id(2)])
        #expect(TextSearch.search("паспорт", in: items, threads: 1) == [id(3), id(2)])
        #expect(TextSearch.search("паспорт", in: items, threads: 64) == [id(3), id(2)])
        #expect(TextSearch.search("паспорт", in: []).isEmpty)
        #expect(TextSearch.search("", in: items).count == 3)
    }

    @Test func parallelSearchEqualsSerialOn10000Items() {
        var rng = SplitMix(seed: 42)
        let vocabulary = [
            "паспорт", "Паспорта", "qoʻyishgan", "qo'yishgan", "ҳужжат", "хужжат", "sauna", "САУНА", "ёлка", "елка",
            "fabrika", "фабрика", "қарз", "debt", "police", "милиса", "bola", "бала", "хўжайин", "street",
        ]
        let items: [(TipID, [String])] = (0..<10_000).map { i in
            let texts = (0..<(1 + Int(rng.next() % 3))).map { _ in
                (0..<(3 + Int(rng.next() % 12))).map { _ in vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
                    .joined(separator: rng.next() % 2 == 0 ? " " : ", ")
            }
            return (id(i), texts)
        }
        for query in ["паспорт", "qoyishgan ёлка", "хужжат карз", "SAUNA police bola", "nothing-like-it", ""] {
            let serial = items.filter { TextSearch.matches(query: query, in: $0.1) }.map(\.0)
            #expect(TextSearch.search(query, in: items) == serial, "\(query)")
            #expect(TextSearch.search(query, in: items, threads: 1) == serial, "\(query)")
            #expect(TextSearch.search(query, in: items, threads: 7) == serial, "\(query)")
        }
    }

    func id(_ n: Int) -> TipID { TipID(String(format: "%032x", n))! }
}

/// A small deterministic generator, so a failing run can be reproduced.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
