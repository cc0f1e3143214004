import Dispatch
import Foundation
import TipCore
import TipCrypto
import TipDesk
import TipStore

// tipdesk-bench [N] [--keep] [--dir DIR] [--bundle-only] [--baseline-key FILE]: imports and
// searches N generated tips (default 100000) in a scratch vault and prints how long each step
// takes. Not a test: numbers depend on the machine. The vault uses the cheap Argon2id profile;
// every tip is sealed exactly as a witness's client would seal it, so import does the real work
// (one X25519 open and one XChaCha20 seal per tip).
//
// For `make bench` (Benchmarks/bench.sh): `--dir DIR` works in DIR (kept) instead of a temporary
// directory; `--bundle-only` stops once the empty vault and DIR/bench.tipgate exist, so the real
// `tipdesk import` and `tipdesk search` binaries can be timed on them; `--baseline-key FILE`
// writes the intake secret key of this throwaway benchmark vault, raw (32 bytes, 0600), for the
// C baseline that opens the same bundle (Benchmarks/open-baseline.c). Never point it at a real
// vault: it is a benchmark vault made here, with a known passphrase.

nonisolated(unsafe) var args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    let v = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return v
}
let dirOption = option("--dir")
let baselineKey = option("--baseline-key")
let n = args.compactMap { Int($0) }.first ?? 100_000
let keep = args.contains("--keep") || dirOption != nil
let bundleOnly = args.contains("--bundle-only")
guard (1...1_000_000).contains(n) else {
    FileHandle.standardError.write(Data("tipdesk-bench: N is 1 to 1000000\n".utf8))
    exit(2)
}

func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

func seconds(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

func timed<T>(_ label: String, _ body: () throws -> T, note: (T) -> String = { _ in "" }) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    let v = try body()
    let extra = note(v)
    let line = "\(label.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%8.2f s", seconds(start)))\(extra.isEmpty ? "" : "  (\(extra))")"
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
    return v
}

/// Sentences in the six page languages (a few from the test corpus, varied below), so searches
/// see Cyrillic and Latin text, diacritics and the Uzbek okina.
let sentences: [(String, String)] = [
    ("en", "Workers at the brick factory outside town sleep in a locked barrack and are told they owe money for the trip."),
    ("en", "A police captain collects money every Friday from the massage parlour owner."),
    ("ru", "В квартире на третьем этаже держат девушек. Хозяин забрал у них паспорта, уйти нельзя."),
    ("ru", "На стройке работают мигранты, им говорят, что они должны за дорогу и жильё. Зарплату не платят."),
    ("uk", "Чоловіків з нашого села вивезли на ферму, забрали паспорти і кажуть, що вони винні гроші."),
    ("uz", "Ukam qurilishda ishlayapti, pasportini olib qoʻyishgan va qarzdorsan deyishadi."),
    ("uz-Cyrl", "Фабрикада муҳожирлар ҳақ олмасдан ишлашяпти, ҳужжатлари хўжайинда."),
    ("ky", "Курулушта иштегендерге акча төлөбөй жатышат, карызсыңар дешет, кетүүгө болбойт."),
    ("tg", "Бародарамро дар сохтмон нигоҳ медоранд, шиносномаашро гирифтаанд."),
]
let filler = ["market", "bus", "depot", "night", "рынок", "вокзал", "ночью", "bozor", "kecha", "базар", "шаҳр", "café", "naïve"]

/// A deterministic generator, so two runs time the same tips.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
}

final class Slots: @unchecked Sendable {
    var tips: [SealedTip?]
    init(_ n: Int) { tips = Array(repeating: nil, count: n) }
}

let root =
    dirOption.map { URL(fileURLWithPath: $0) }
    ?? URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tipdesk-bench-\(getpid())")
try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
defer { if !keep { try? FileManager.default.removeItem(at: root) } }
let vault = Vault(directory: root.appendingPathComponent("vault"))
let passphrase = SecureBytes(copying: Array("benchmark passphrase".utf8))
say("tipdesk-bench: \(n) tips, \(ProcessInfo.processInfo.activeProcessorCount) cores, vault \(vault.directory.path)")
let key = try timed("init (Argon2id interactive)") { try vault.create(passphrase: passphrase, cost: .interactive) }
if let baselineKey {
    let file = try Data(contentsOf: vault.directory.appendingPathComponent("keys/\(key.keyID.hex).secret"))
    let (_, secret) = try SecretKeyFile.open(file, passphrase: passphrase)
    let raw = secret.withUnsafeBytes { Data($0) }
    guard FileManager.default.createFile(atPath: baselineKey, contents: raw, attributes: [.posixPermissions: 0o600]) else {
        FileHandle.standardError.write(Data("tipdesk-bench: cannot write \(baselineKey)\n".utf8))
        exit(1)
    }
}

let bundleURL = root.appendingPathComponent("bench.tipgate")
let days = (0..<60).map { Day.today.adding(days: -$0) }
try timed(
    "generate, seal, bundle",
    {
        let slots = Slots(n)
        DispatchQueue.concurrentPerform(iterations: 64) { chunk in
            var rng = SplitMix(state: UInt64(chunk) &* 7919)
            for i in stride(from: chunk, to: n, by: 64) {
                let (lang, s) = rng.pick(sentences)
                var body = "\(s) \(rng.pick(filler)) \(rng.next() % 100_000)"
                for _ in 0..<Int(rng.next() % 4) { body += " \(rng.pick(sentences).1)" }
                var fields = [String: String]()
                if rng.next() % 3 == 0 { fields["contact"] = "+7 9\(rng.next() % 100_000_000)" }
                if rng.next() % 2 == 0 { fields["where"] = rng.pick(filler) + " \(rng.next() % 50)" }
                let doc = try! TipDocument(body: body, fields: fields, lang: lang)
                let sub = try! TipSealer.seal(doc, to: key)
                slots.tips[i] = SealedTip(id: Random.tipID(), keyID: sub.keyID, day: rng.pick(days), sealed: sub.sealed)
            }
        }
        let tips = slots.tips.map { $0! }.sorted { $0.id < $1.id }
        try ExportBundle.encode(instance: Random.hex128(), created: .today, tips: tips) { BLAKE2b.hash($0) }.write(to: bundleURL)
    }, note: { "\((try? FileManager.default.attributesOfItem(atPath: bundleURL.path)[.size] as? Int).map { $0 >> 20 } ?? 0) MiB bundle" })

if bundleOnly { exit(0) }

let desk = Desk(vault: vault)
_ = try timed(
    "import", { try desk.importBundle(at: bundleURL, passphrase: passphrase) }, note: { "\($0.opened) opened, \($0.suggestions.count) with suggestions" })
_ = try timed(
    "import again (idempotent)", { try desk.importBundle(at: bundleURL, passphrase: passphrase) }, note: { "\($0.added) added, \($0.alreadyHad) held" })
let session = try timed("unlock (data key)") { try desk.session(passphrase) }
let all = try timed("list (decrypt + sort)", { try session.list() }, note: { "\($0.count) tips" })
for q in ["паспорт", "qo'yishgan", "хужжат", "brick factory", "cafe", "nothingmatchesthis"] {
    _ = try timed("search \(q)", { try session.search(q) }, note: { "\($0.count) hits" })
}
var change = TriageChange()
change.status = .reviewing
change.note = "benchmark"
_ = try timed("triage one tip") { try session.triage(all[n / 2].id, change) }
_ = try timed("related to one tip", { try session.related(all[0].id) }, note: { "\($0.count) related" })
_ = try timed("audit verify", { try session.verifyAudit() }, note: { "\($0.entries) entries" })
let size = (try? FileManager.default.attributesOfItem(atPath: vault.directory.appendingPathComponent("vault.sqlite").path)[.size] as? Int) ?? 0
say("vault.sqlite                 \(size >> 20) MiB")
