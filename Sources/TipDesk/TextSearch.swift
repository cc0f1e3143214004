import Dispatch
import Foundation
import TipCore

/// Search over opened tips, in memory only: the vault keeps tips sealed, so there is no index
/// on disk to leak what a tip says. Every search normalizes the text again; at tip sizes this
/// is cheap, and it spreads over all cores.
public enum TextSearch {
    /// Folds text so that a reviewer typing on a plain Latin or Russian keyboard finds what a
    /// witness wrote: lowercase; diacritics dropped (NFKD, then combining marks removed, so
    /// ё→е and й→и); the letters of Uzbek, Kyrgyz, Tajik and Ukrainian Cyrillic that a Russian
    /// keyboard lacks folded to their nearest Russian letter (ғ→г, қ→к, ҳ→х, ҷ→ч, ң→н, ө→о,
    /// ү→у, ӣ→и, ӯ→у, ў→у, і→и, ї→и, є→е, ґ→г); apostrophes deleted, so Uzbek oʻ, gʻ typed
    /// with any of ʻ ‘ ’ ' ʼ ` equal plain o, g (and "don't" is "dont"); every other character
    /// that is not a letter or digit becomes a space; runs of spaces collapse to one, with none
    /// at either end. Other Cyrillic letters stay distinct.
    public static func normalize(_ s: String) -> String {
        var dropped = String.UnicodeScalarView()
        for u in s.lowercased().unicodeScalars where !apostrophes.contains(u.value) {
            dropped.append(u)
        }
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for u in String(dropped).decomposedStringWithCompatibilityMapping.unicodeScalars {
            let p = u.properties
            if p.generalCategory == .nonspacingMark || p.generalCategory == .enclosingMark { continue }
            let folded = letterFolds[u.value].flatMap(Unicode.Scalar.init) ?? u
            if isWordScalar(folded) {
                if pendingSpace && !out.isEmpty { out.append(" ") }
                pendingSpace = false
                out.append(folded)
            } else {
                pendingSpace = true
            }
        }
        return String(out)
    }

    /// The words of normalized text.
    public static func words(_ s: String) -> [Substring] {
        normalize(s).split(separator: " ")
    }

    /// True if every word of `query` occurs (as a substring, so a stem finds its inflections)
    /// in at least one of `texts`, both normalized. An empty query matches everything.
    public static func matches(query: String, in texts: [String]) -> Bool {
        matches(words: words(query), in: texts)
    }

    static func matches(words q: [Substring], in texts: [String]) -> Bool {
        if q.isEmpty { return true }
        let normalized = texts.map(normalize)
        return q.allSatisfy { w in normalized.contains { $0.contains(w) } }
    }

    /// The ids of the items whose texts match `query` (`matches(query:in:)`), in input order.
    /// The items are cut into one chunk per thread and searched with `concurrentPerform`: a
    /// reviewer's vault can hold tens of thousands of tips, all decrypted into memory.
    public static func search(
        _ query: String, in items: [(TipID, [String])],
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> [TipID] {
        let q = words(query)
        let n = items.count
        if n == 0 { return [] }
        let chunks = max(1, min(threads, n))
        let size = (n + chunks - 1) / chunks
        let hits = ChunkResults(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let range = (c * size)..<min(n, (c + 1) * size)
            var found = [TipID]()
            for i in range where matches(words: q, in: items[i].1) {
                found.append(items[i].0)
            }
            hits.set(c, found)
        }
        return hits.joined()
    }

    // MARK: - Folding tables

    /// ʼ ʻ ' ‘ ’ ` ´: every mark people type for the Uzbek Latin okina and for apostrophes.
    /// Deleted before NFKD, which would turn ´ into a space and a combining accent.
    static let apostrophes: Set<UInt32> = [0x27, 0x60, 0xb4, 0x2bb, 0x2bc, 0x2bd, 0x2018, 0x2019, 0x2032]

    /// Lowercase letters with no canonical decomposition to a Russian letter. (ӣ ӯ ў ї й ё
    /// decompose, so NFKD plus dropping marks handles them; ї leaves і, folded here.)
    static let letterFolds: [UInt32: UInt32] = [
        0x493: 0x433,  // ғ → г
        0x49b: 0x43a,  // қ → к
        0x4b3: 0x445,  // ҳ → х
        0x4b7: 0x447,  // ҷ → ч
        0x4a3: 0x43d,  // ң → н
        0x4e9: 0x43e,  // ө → о
        0x4af: 0x443,  // ү → у
        0x4e3: 0x438,  // ӣ → и (already decomposed by NFKD; kept for clarity)
        0x4ef: 0x443,  // ӯ → у (likewise)
        0x45e: 0x443,  // ў → у (likewise)
        0x456: 0x438,  // і → и
        0x457: 0x438,  // ї → и
        0x454: 0x435,  // є → е
        0x491: 0x433,  // ґ → г
    ]

    static func isWordScalar(_ u: Unicode.Scalar) -> Bool {
        if u.isASCII {
            let v = u.value
            return (0x30...0x39).contains(v) || (0x61...0x7a).contains(v) || (0x41...0x5a).contains(v)
        }
        let p = u.properties
        return p.isAlphabetic || p.numericType == .decimal
    }
}

/// One slot per chunk of a parallel search, written once each from `concurrentPerform`.
private final class ChunkResults: @unchecked Sendable {
    private var slots: [[TipID]]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func set(_ i: Int, _ ids: [TipID]) {
        lock.lock()
        slots[i] = ids
        lock.unlock()
    }

    func joined() -> [TipID] {
        lock.lock()
        defer { lock.unlock() }
        return slots.flatMap { $0 }
    }
}
