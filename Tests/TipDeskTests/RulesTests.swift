import Foundation
import Testing
import TipCore
import TipTestSupport

@testable import TipDesk

/// A sample tip with the category and urgency a careful reviewer gave it.
struct LabelledTip: Sendable, CustomStringConvertible {
    let lang: String
    let body: String
    let fields: [String: String]
    let category: String?
    let urgency: Urgency?

    var description: String { "[\(lang)] \(body.prefix(60))" }

    var document: TipDocument { try! TipDocument(body: body, fields: fields, lang: lang) }

    /// Tests/Fixtures/corpus-tips.jsonl; `expect.category` is a label, mapped to its id.
    static let corpus: [LabelledTip] = {
        let text = try! String(contentsOf: Repo.root.appendingPathComponent("Tests/Fixtures/corpus-tips.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let expect = o["expect"] as! [String: String]
            return LabelledTip(
                lang: o["lang"] as! String, body: o["body"] as! String, fields: o["fields"] as? [String: String] ?? [:],
                category: Taxonomy.seeded.id(forLabel: expect["category"]!)!, urgency: Urgency(rawValue: expect["urgency"]!)!)
        }
    }()
}

private func tip(_ lang: String, _ body: String, _ category: String?, _ urgency: Urgency?) -> LabelledTip {
    LabelledTip(lang: lang, body: body, fields: [:], category: category, urgency: urgency)
}

/// Sentences written for these tests, not taken from the corpus: other words for the same
/// things, so the rules are checked for vocabulary, not for the corpus lines.
let handWritten: [LabelledTip] = [
    tip("en", "My boss keeps our passports in his car and says we get them back when the season ends.", "document_confiscation", .normal),
    tip("en", "A 15-year-old boy washes cars all night and the owner hits him.", "child_at_risk", .critical),
    tip("en", "They are moving the women to another city tonight.", nil, .critical),
    tip("en", "The border guards take money to let the buses with girls through.", "official_complicity", .high),
    tip("en", "We have to work off a debt for the visa and the recruiter says we owe more every month.", "debt_bondage", .high),
    tip("ru", "Брату на стройке не отдают паспорт и говорят, что он должен за жильё.", "debt_bondage", .high),
    tip("ru", "Девочку 13 лет держат в сауне, помогите срочно!", "child_at_risk", .critical),
    tip("ru", "Сотрудники полиции крышуют притон на окраине города.", "official_complicity", .high),
    tip("ru", "Нам не платят уже три месяца, работаем в теплице с утра до ночи.", "forced_labour", .normal),
    tip("uk", "Поліцейські отримують гроші від власника борделю і повертають дівчат, які тікають.", "official_complicity", .high),
    tip("uk", "Їй 15 років, її тримають у квартирі і не випускають.", "child_at_risk", .critical),
    tip("uk", "Нам не платять зарплату, а паспорти забрав бригадир.", "document_confiscation", .normal),
    tip("uk", "Фабрика постачає взуття до відомого бренду, люди сплять на підлозі в цеху.", "supply_chain", .normal),
    tip("uz-Latn", "Xoʻjayin hujjatlarimizni olib qoʻydi va oylik bermayapti.", "document_confiscation", .normal),
    tip("uz-Latn", "Singlim 16 yoshda, uni saunada ishlatishyapti, zudlik bilan yordam kerak.", "child_at_risk", .critical),
    tip("uz-Latn", "Militsiya xodimlari pora olib, bu joyni himoya qilishadi.", "official_complicity", .high),
    tip("uz-Latn", "Rossiyada qurilishda ishlaymiz, qarzimizni uzmaguncha ketolmaymiz deyishadi.", "debt_bondage", .high),
    tip("uz-Cyrl", "Қурилишда ишлаяпмиз, қарзингни узмагунча кетолмайсан дейишади.", "debt_bondage", .high),
    tip("uz-Cyrl", "Болалар пахта далаларида мактабга бормай ишлашяпти.", "child_at_risk", .critical),
    tip("uz-Cyrl", "Хўжайин паспортларимизни олиб қўйган.", "document_confiscation", .normal),
    tip("uz-Cyrl", "Милиция ходимлари фоҳишахона эгасидан пул олади.", "official_complicity", .high),
    tip("ky", "Милиционерлер сауна ээсинен акча алышат.", "official_complicity", .high),
    tip("ky", "15 жаштагы кызды түнкү клубда кармап турушат.", "child_at_risk", .critical),
    tip("ky", "Фермада иштейбиз, үч айдан бери айлык бербей жатышат.", "forced_labour", .normal),
    tip("ky", "Паспортторубузду алып коюшту, карызыңар бар дешет.", "debt_bondage", .high),
    tip("tg", "Писарам дар Русия қарздор шудааст ва то қарзро надиҳад, ба хона рафта наметавонад.", "debt_bondage", .high),
    tip("tg", "Корфармо шиносномаҳои моро гирифт ва пас намедиҳад.", "document_confiscation", .normal),
    tip("tg", "Духтарро имшаб ба шаҳри дигар мебаранд.", nil, .critical),
    tip("tg", "Дар фоҳишахона духтарони ноболиғ ҳастанд.", "child_at_risk", .critical),
    tip("en", "Could you tell me your office hours?", nil, nil),
]

@Suite struct RulesCorpusTests {
    static let rules = try! Rules.bundled()

    @Test(arguments: LabelledTip.corpus)
    func corpusTip(_ t: LabelledTip) {
        let s = Self.rules.suggest(t.document)
        #expect(s.category == t.category, "matched \(s.matched)")
        #expect(s.urgency == t.urgency, "matched \(s.matched)")
    }

    @Test func corpusHitRate() {
        let corpus = LabelledTip.corpus
        #expect(corpus.count == 24)
        var categories = 0
        var urgencies = 0
        for t in corpus {
            let s = Self.rules.suggest(t.document)
            if s.category == t.category { categories += 1 }
            if s.urgency == t.urgency { urgencies += 1 }
        }
        print("rules on the corpus: category \(categories)/\(corpus.count), urgency \(urgencies)/\(corpus.count)")
        #expect(categories == corpus.count && urgencies == corpus.count)
    }

    @Test(arguments: handWritten)
    func handWrittenTip(_ t: LabelledTip) {
        let s = Self.rules.suggest(t.document)
        #expect(s.category == t.category, "matched \(s.matched)")
        #expect(s.urgency == t.urgency, "matched \(s.matched)")
    }

    @Test func reportsEveryMatchingRuleInOrder() {
        let s = Self.rules.suggest(body: "Хозяин забрал паспорта, говорят, что мы должны за дорогу. Уйти нельзя.")
        #expect(s.matched == ["debt_bondage", "document_confiscation", "cannot_leave"])
        #expect(s.category == "debt_bondage" && s.urgency == .high)
    }

    @Test func fieldValuesAreMatchedButNotFieldNames() {
        let s = Self.rules.suggest(body: "Please check this address.", fields: ["where": "Sauna Lux, Lenin street"])
        #expect(s.category == "sexual_exploitation")
        let n = Self.rules.suggest(body: "Please check this address.", fields: ["sauna": "Lenin street"])
        #expect(n.matched.isEmpty)
    }

    @Test func shortStemsDoNotFireOnOtherWords() {
        // "долго" is not "долг", a duration is not an age, "bo'ladi" is not "bola".
        #expect(Self.rules.suggest(body: "Они работают долго, уже 5 лет.").matched.isEmpty)
        #expect(Self.rules.suggest(body: "They have worked there for 3 years.").matched.isEmpty)
        #expect(Self.rules.suggest(body: "Ish bo'ladi, dedi.").matched.isEmpty)
        #expect(Self.rules.suggest(body: "На складі працюють по 16 годин.").category != "child_at_risk")
    }
}

@Suite struct RulesFormatTests {
    func rules(_ json: String, taxonomy: Taxonomy? = nil) throws -> Rules { try Rules.decode(Data(json.utf8), taxonomy: taxonomy) }

    @Test func bundledRulesRoundTrip() throws {
        let r = try Rules.bundled()
        #expect(r.rules.count > 10)
        #expect(try Rules.decode(r.encoded(), taxonomy: .seeded) == r)
        for rule in r.rules {
            if let c = rule.category { #expect(Taxonomy.seeded.contains(c)) }
        }
    }

    @Test func stemsExactWordsAndPhrases() throws {
        let r = try rules(#"{"v":1,"rules":[{"id":"a","urgency":"low","any":["паспорт","kid$","right now"]}]}"#)
        #expect(r.suggest(body: "Забрали ПАСПОРТА.").urgency == .low)
        #expect(r.suggest(body: "pasport").urgency == nil)
        #expect(r.suggest(body: "a kid").urgency == .low)
        #expect(r.suggest(body: "kidney").urgency == nil)
        #expect(r.suggest(body: "Right now!").urgency == .low)
        #expect(r.suggest(body: "right, now").urgency == .low)  // punctuation is not a word
        #expect(r.suggest(body: "now right").urgency == nil)
        #expect(r.suggest(body: "right", fields: ["x": "now"]).urgency == nil)  // not across texts
    }

    @Test func minorPlaceholder() throws {
        let r = try rules(##"{"v":1,"rules":[{"id":"a","urgency":"critical","any":["#minor yosh"]}]}"##)
        #expect(r.suggest(body: "15 yoshli qiz").urgency == .critical)
        #expect(r.suggest(body: "1 yoshli").urgency == .critical)
        #expect(r.suggest(body: "18 yoshli").urgency == nil)
        #expect(r.suggest(body: "0 yoshli").urgency == nil)
        #expect(r.suggest(body: "150 yoshli").urgency == nil)
    }

    @Test func allGroupsMustEachMatch() throws {
        let r = try rules(#"{"v":1,"rules":[{"id":"a","category":"other","any":["passport"],"all":["took|taken","boss"]}]}"#)
        #expect(r.suggest(body: "the boss took my passport").category == "other")
        #expect(r.suggest(body: "my passport was taken by the boss").category == "other")
        #expect(r.suggest(body: "the boss saw my passport").category == nil)
        #expect(r.suggest(body: "they took my passport").category == nil)
    }

    @Test func priorityAndUrgency() throws {
        let r = try rules(
            #"""
            {"v":1,"rules":[
              {"id":"now","urgency":"critical","any":["now"]},
              {"id":"first","category":"other","urgency":"low","any":["a"]},
              {"id":"second","category":"forced_labour","urgency":"high","any":["b"]}]}
            """#)
        #expect(r.suggest(body: "b a") == Rules.Suggestion(category: "other", urgency: .high, matched: ["first", "second"]))
        #expect(r.suggest(body: "b now") == Rules.Suggestion(category: "forced_labour", urgency: .critical, matched: ["now", "second"]))
        #expect(r.suggest(body: "nothing here") == Rules.Suggestion())
    }

    @Test func langsLimitARule() throws {
        let r = try rules(#"{"v":1,"rules":[{"id":"a","urgency":"high","any":["pora"],"langs":["uz"]}]}"#)
        #expect(r.suggest(body: "pora", lang: "uz-Latn").urgency == .high)
        #expect(r.suggest(body: "pora", lang: "UZ").urgency == .high)
        #expect(r.suggest(body: "pora", lang: "uzb").urgency == nil)
        #expect(r.suggest(body: "pora", lang: "ru").urgency == nil)
        #expect(r.suggest(body: "pora").urgency == .high)
    }

    @Test(arguments: [
        #"{"v":2,"rules":[]}"#,
        #"{"rules":[]}"#,
        #"{"v":1,"rules":[],"extra":1}"#,
        #"{"v":1,"rules":[{"id":"a","urgency":"high","any":["x"],"none":["y"]}]}"#,
        #"{"v":1,"rules":[{"id":"a","urgency":"soon","any":["x"]}]}"#,
        #"{"v":1,"rules":[{"id":"a","any":["x"]}]}"#,
        #"{"v":1,"rules":[{"id":"a","urgency":"high","any":[]}]}"#,
        #"{"v":1,"rules":[{"id":"a","urgency":"high","any":["..."]}]}"#,
        #"{"v":1,"rules":[{"id":"a","urgency":"high","any":["x"],"all":["y|"]}]}"#,
        ##"{"v":1,"rules":[{"id":"a","urgency":"high","any":["#age 5"]}]}"##,
        #"{"v":1,"rules":[{"id":"a","urgency":"high","any":["x"],"langs":["ru RU"]}]}"#,
        #"{"v":1,"rules":[{"id":"A","urgency":"high","any":["x"]}]}"#,
        #"{"v":1,"rules":[{"id":"a","urgency":"high","any":["x"]},{"id":"a","urgency":"low","any":["y"]}]}"#,
        #"{"v":1,"rules":[{"id":"a","category":"organ_trade","any":["x"]}]}"#,
        "[]",
    ])
    func rejectsInvalidRules(_ json: String) {
        #expect(throws: DeskError.self) { try rules(json, taxonomy: .seeded) }
    }

    @Test func categoryIsCheckedOnlyAgainstAGivenTaxonomy() throws {
        let json = #"{"v":1,"rules":[{"id":"a","category":"organ_trade","any":["x"]}]}"#
        #expect(try rules(json).suggest(body: "x").category == "organ_trade")
        #expect(throws: DeskError.self) { try rules(json, taxonomy: .seeded) }
    }
}

/// The suggestions an import prints: the first few in urgency-then-id order, picked in one
/// pass, must be exactly those a full sort would put first.
@Suite struct SuggestionOrderTests {
    @Test func firstFewAreThoseOfAFullSort() {
        var rng = SystemRandomNumberGenerator()
        let urgencies: [Urgency?] = [nil, .critical, .high, .normal, .low]
        for n in [0, 1, 5, 19, 20, 21, 300] {
            let all = (0..<n).map { _ in
                SuggestedTriage(
                    id: TipID(Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }))!,
                    suggestion: Rules.Suggestion(category: "other", urgency: urgencies.randomElement(using: &rng)!))
            }
            for k in [0, 1, 3, 20] {
                #expect(SuggestedTriage.first(k, of: all) == Array(all.sorted(by: SuggestedTriage.precedes).prefix(k)), "n=\(n) k=\(k)")
            }
        }
    }
}
