import Dispatch
import Foundation
import TipCore
import TipCrypto
import TipStore

/// The filters of `tipdesk list` and `search`. Within one kind, any value matches (`--status
/// new --status reviewing`); tags all must be present; kinds combine with AND. A tip that has
/// not opened has no triage: it is shown only when no triage filter is given.
public struct TipFilter: Equatable, Sendable {
    public var statuses: Set<TriageStatus> = []
    public var categories: Set<String> = []
    public var urgencies: Set<Urgency> = []
    public var tags: [String] = []
    /// Inclusive UTC days.
    public var since: Day?
    public var until: Day?

    public init() {}

    var filtersTriage: Bool { !statuses.isEmpty || !categories.isEmpty || !urgencies.isEmpty || !tags.isEmpty }

    /// Days are plaintext in the vault, so they are checked before anything is decrypted.
    func matchesDay(_ d: Day) -> Bool { (since.map { d >= $0 } ?? true) && (until.map { d <= $0 } ?? true) }

    public func matches(_ t: OpenedTip) -> Bool {
        guard matchesDay(t.day) else { return false }
        guard filtersTriage else { return true }
        guard let tr = t.triage else { return false }
        if !statuses.isEmpty, !statuses.contains(tr.status) { return false }
        if !categories.isEmpty, !categories.contains(tr.category ?? "") { return false }
        if !urgencies.isEmpty {
            guard let u = tr.urgency, urgencies.contains(u) else { return false }
        }
        return tags.allSatisfy(tr.tags.contains)
    }
}

/// The order of `list` and `search`: most urgent first, then newest day first, then id, so the
/// same vault always lists in the same order. A tip without an urgency sorts with `normal`, the
/// urgency a reviewer gives when nothing stands out; one that has not opened, likewise.
public enum TipOrder {
    public static func sorted(_ tips: [OpenedTip]) -> [OpenedTip] {
        tips.sorted { a, b in
            let ua = (a.triage?.urgency ?? .normal).rank
            let ub = (b.triage?.urgency ?? .normal).rank
            if ua != ub { return ua < ub }
            if a.day != b.day { return a.day > b.day }
            return a.id < b.id
        }
    }
}

extension VaultSession {
    /// The tips matching `filter`, in `TipOrder`.
    public func list(_ filter: TipFilter = TipFilter()) throws -> [OpenedTip] {
        TipOrder.sorted(try tips(where: { filter.matchesDay($0.day) }, label: "decrypting").filter(filter.matches))
    }

    /// Tips whose body or field values contain every word of `query`, ignoring case, diacritics
    /// and the letters that differ between the Cyrillic alphabets (`TextSearch`), on all cores.
    /// Everything happens in memory: the vault has no index that could leak words.
    ///
    /// Each record is decrypted once; its body and field values are read from the plaintext by
    /// `RecordScan` and matched as bytes, and only the tips that match are decoded in full
    /// (`JSONDecoder`, as `RecordBox.open` does) to be shown. Issue 9's profile: decoding every
    /// record with Foundation and normalizing its text with Foundation were most of a search.
    public func search(_ query: String, filter: TipFilter = TipFilter(), threads: Int = searchThreads) throws -> [OpenedTip] {
        let records = try db.records().filter { filter.matchesDay($0.day) && $0.opened }
        let progress = ProgressMeter("searching", total: records.count)
        defer { progress.finish() }
        let q = TextSearch.Query(query)
        let key = dataKey
        let n = records.count
        if n == 0 { return [] }
        let size = (n + max(1, threads) * 32 - 1) / (max(1, threads) * 32)
        // Recounted from the size, so no chunk starts past the end (2000 tips on 2 threads
        // would otherwise make chunk 63 the range 2016..<2000).
        let chunks = (n + size - 1) / size
        let slots = ChunkResults<SearchOutcome>(count: chunks)
        let each = { @Sendable (c: Int) in
            let range = (c * size)..<min(n, (c + 1) * size)
            var scratch = SearchScratch()
            var found = [SearchOutcome]()
            for i in range {
                let o = Self.searchOne(records[i], query: q, filter: filter, key: key, scratch: &scratch)
                if case .miss = o { continue }
                found.append(o)
            }
            slots.set(c, found)
            progress.advance(by: range.count)
        }
        Workers.perform(iterations: chunks, threads: threads, each)
        var hits = [OpenedTip]()
        for o in slots.joined() {
            switch o {
            case .hit(let t): hits.append(t)
            case .failed(let e): throw e
            case .miss: break
            }
        }
        return TipOrder.sorted(hits)
    }

    /// How many threads `search` decrypts on: every core. Each thread decrypts into one locked
    /// buffer it reuses (`SearchScratch.plain`): a fresh `SecureBytes` per record cost an mmap,
    /// mprotects, an mlock and a munmap, and on two threads those contended for the
    /// address-space lock (issue 9: 7.8 s on two threads against 3.5 s on one, before).
    public static let searchThreads = ProcessInfo.processInfo.activeProcessorCount

    /// One record of `search`: decrypted, matched, and decoded in full only if it matches.
    static func searchOne(
        _ r: VaultRecord, query q: TextSearch.Query, filter: TipFilter, key: VaultDataKey, scratch: inout SearchScratch
    ) -> SearchOutcome {
        guard let box = r.box else { return .miss }
        let n: Int
        do { n = try key.openRecord(box, id: r.id, into: &scratch.plain) } catch {
            return .failed(DeskError("the vault record of tip \(r.id) does not decrypt: it was altered", hints: ["restore the vault from a backup"]))
        }
        let plain = scratch.plain
        defer { plain.wipe(prefix: n) }
        return plain.withUnsafeBytes { whole -> SearchOutcome in
            let raw = UnsafeRawBufferPointer(rebasing: whole[0..<n])
            let bytes = raw.bindMemory(to: UInt8.self)
            // The fast path decides misses; anything it cannot read is decoded the full way,
            // which reports a damaged record exactly as `list` would.
            if !filter.filtersTriage, !q.isEmpty, RecordScan.texts(bytes, into: &scratch.texts, ranges: &scratch.ranges) {
                var found = [Bool](repeating: false, count: q.words.count)
                var left = q.words.count
                var readable = true
                scratch.texts.withUnsafeBufferPointer { texts in
                    for range in scratch.ranges {
                        switch q.matchText(UnsafeBufferPointer(rebasing: texts[range]), found: &found, left: &left, scratch: &scratch.search) {
                        case .none: readable = false
                        case .some(true): return
                        case .some(false): continue
                        }
                        if !readable { return }
                    }
                }
                if readable && left > 0 { return .miss }
            }
            let t: OpenedTip
            do { t = try decodeRecord(bytes, r) } catch let e as DeskError { return .failed(e) } catch {
                return .failed(DeskError("the vault record of tip \(r.id) is damaged"))
            }
            guard filter.matches(t), let d = t.document else { return .miss }
            if !filter.filtersTriage && !q.isEmpty { return .hit(t) }
            return q.matches([d.body] + d.fields.keys.sorted().map { d.fields[$0]! }, scratch: &scratch.search) ? .hit(t) : .miss
        }
    }

    /// A record's plaintext decoded in full, with the checks of `RecordBox.open` (which also
    /// decrypts; here the plaintext is already open).
    static func decodeRecord(_ plain: UnsafeBufferPointer<UInt8>, _ r: VaultRecord) throws -> OpenedTip {
        let p: RecordBox.Plain
        do {
            p = try JSONDecoder().decode(
                RecordBox.Plain.self,
                from: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: plain.baseAddress!), count: plain.count, deallocator: .none))
        } catch let e as DeskError { throw e } catch { throw DeskError("the vault record of tip \(r.id) is damaged") }
        guard p.v == 1 else { throw DeskError("the vault record of tip \(r.id) has an unknown version") }
        let doc: TipDocument
        do { doc = try TipDocument(body: p.document.body, fields: p.document.fields ?? [:], lang: p.document.lang) } catch {
            throw DeskError("the vault record of tip \(r.id) is damaged")
        }
        return OpenedTip(
            id: r.id, day: r.day, keyID: r.keyID, result: .success(doc), instance: r.instance, sizeClass: r.sizeClass, acked: r.acked,
            triage: p.triage)
    }

    /// Near-duplicates of a tip, and tips sharing its contact or place field (`Related`).
    public func related(_ id: TipID, threshold: Double = Related.defaultThreshold) throws -> [(OpenedTip, RelatedMatch)] {
        let all = try tips(where: { $0.opened }, label: "comparing")
        guard all.contains(where: { $0.id == id }) else {
            throw DeskError("tip \(id) has not opened, so it cannot be compared", hints: ["if its key has arrived since: tipdesk reopen"])
        }
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
        let items = all.map { RelatedItem(id: $0.id, body: $0.document!.body, fields: $0.document!.fields) }
        return Related.find(id, in: items, threshold: threshold).map { (byID[$0.id]!, $0) }
    }

    /// Decrypts the records `include` accepts, on all cores.
    func tips(where include: (VaultRecord) -> Bool, label: String) throws -> [OpenedTip] {
        let records = try db.records().filter(include)
        let progress = ProgressMeter(label, total: records.count)
        defer { progress.finish() }
        return try decrypt(records, progress: progress)
    }

    func decrypt(_ records: [VaultRecord], progress: ProgressMeter?) throws -> [OpenedTip] {
        let key = dataKey
        // One locked buffer per chunk, reused and wiped record to record (issue 9).
        let opened = Parallel.map(records.count, progress: progress, scratch: { SecureBytes(count: 16 << 10) }) { i, scratch in
            Self.decrypt(records[i], key: key, scratch: &scratch)
        }
        for (_, ok) in opened { try ok.get() }
        return opened.map(\.0)
    }
}

/// What `search` found for one record.
enum SearchOutcome: @unchecked Sendable {
    case miss
    case hit(OpenedTip)
    case failed(DeskError)
}

/// Buffers one thread of `search` reuses from record to record.
struct SearchScratch {
    /// The locked buffer each record is decrypted into, reused and wiped between records.
    var plain = SecureBytes(count: 16 << 10)
    var texts = [UInt8]()
    var ranges = [Range<Int>]()
    var search = TextSearch.Scratch()
}

/// Reads the body and field values out of a record's plaintext (SECURITY.md §10.2) without
/// Foundation, for `search`:
///
///     {"document":{"body":"…","fields":{…},"lang":"…"},"triage":{…},"v":1}
///
/// Strict JSON (RFC 8259) for exactly that shape, with the limits of the tip document (§3.2);
/// `triage` is checked to be JSON, not read. Anything else, including what a newer writer might
/// add, makes it answer false, and `search` then decodes the record with `JSONDecoder`, which
/// decides. The decoded strings are not checked for UTF-8 here: the matcher checks them.
enum RecordScan {
    /// Decodes the body and each field value into `out`, one range each in `ranges`. False if
    /// the plaintext is not what this scanner reads.
    static func texts(_ p: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], ranges: inout [Range<Int>]) -> Bool {
        out.removeAll(keepingCapacity: true)
        ranges.removeAll(keepingCapacity: true)
        var r = Reader(p: p)
        var seen = (document: false, triage: false, v: false)
        let ok = r.object { key, r in
            switch key {
            case "document" where !seen.document:
                seen.document = true
                return document(&r, &out, &ranges)
            case "triage" where !seen.triage:
                seen.triage = true
                return r.skipValue(depth: 0)
            case "v" where !seen.v:
                seen.v = true
                return r.literal("1")
            default:
                return false
            }
        }
        r.whitespace()
        return ok && r.i == p.count && seen.document && seen.triage && seen.v
    }

    private static func document(_ r: inout Reader, _ out: inout [UInt8], _ ranges: inout [Range<Int>]) -> Bool {
        var seen = (body: false, fields: false, lang: false)
        let ok = r.object { key, r in
            switch key {
            case "body" where !seen.body:
                seen.body = true
                let start = out.count
                guard r.string(into: &out) else { return false }
                let n = out.count - start
                guard n >= 1, n <= TipDocument.maxBodyBytes else { return false }
                ranges.append(start..<out.count)
                return true
            case "fields" where !seen.fields:
                seen.fields = true
                var count = 0
                var name = [UInt8]()
                return r.object(keys: &name) { k, r in
                    count += 1
                    guard count <= TipDocument.maxFields, k.count >= 1, k.count <= TipDocument.maxFieldKeyBytes else { return false }
                    let start = out.count
                    guard r.string(into: &out), out.count - start <= TipDocument.maxFieldValueBytes else { return false }
                    ranges.append(start..<out.count)
                    return true
                }
            case "lang" where !seen.lang:
                seen.lang = true
                var lang = [UInt8]()
                guard r.string(into: &lang), !lang.isEmpty, lang.count <= TipDocument.maxLangBytes else { return false }
                return lang.allSatisfy { c in
                    (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == 0x2d
                }
            default:
                return false
            }
        }
        return ok && seen.body
    }

    /// A cursor over JSON text.
    struct Reader {
        let p: UnsafeBufferPointer<UInt8>
        var i = 0

        mutating func whitespace() {
            while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        }

        mutating func byte(_ b: UInt8) -> Bool {
            whitespace()
            guard i < p.count, p[i] == b else { return false }
            i += 1
            return true
        }

        mutating func literal(_ s: StaticString) -> Bool {
            whitespace()
            let n = s.utf8CodeUnitCount
            guard i + n <= p.count else { return false }
            for k in 0..<n where p[i + k] != s.utf8Start[k] { return false }
            i += n
            // A number must end here ("1" is not "10").
            if i < p.count, (0x30...0x39).contains(p[i]) || p[i] == 0x2E || p[i] == 0x65 || p[i] == 0x45 { return false }
            return true
        }

        /// An object; `member` reads each value after its key (given as a String). False on
        /// any syntax error or when `member` says so.
        mutating func object(_ member: (String, inout Reader) -> Bool) -> Bool {
            var key = [UInt8]()
            return object(keys: &key) { k, r in member(String(decoding: k, as: UTF8.self), &r) }
        }

        /// An object whose keys are decoded into `key` (valid until the next member).
        mutating func object(keys key: inout [UInt8], _ member: ([UInt8], inout Reader) -> Bool) -> Bool {
            guard byte(0x7B) else { return false }
            if byte(0x7D) { return true }
            while true {
                whitespace()
                key.removeAll(keepingCapacity: true)
                guard string(into: &key), byte(0x3A) else { return false }
                whitespace()
                guard member(key, &self) else { return false }
                if byte(0x2C) { continue }
                return byte(0x7D)
            }
        }

        /// A string, its decoded bytes appended to `out`. Rejects raw control characters, bad
        /// escapes and unpaired surrogates.
        mutating func string(into out: inout [UInt8]) -> Bool {
            guard byte(0x22) else { return false }
            while i < p.count {
                // Runs without escapes are copied at once.
                var j = i
                while j < p.count, p[j] != 0x22, p[j] != 0x5C, p[j] >= 0x20 { j += 1 }
                if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<j])) }
                i = j
                guard i < p.count else { return false }
                let c = p[i]
                if c == 0x22 {
                    i += 1
                    return true
                }
                guard c == 0x5C, i + 1 < p.count else { return false }
                let e = p[i + 1]
                i += 2
                switch e {
                case 0x22, 0x5C, 0x2F: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    guard var u = hex4() else { return false }
                    if (0xD800...0xDBFF).contains(u) {
                        guard i + 1 < p.count, p[i] == 0x5C, p[i + 1] == 0x75 else { return false }
                        i += 2
                        guard let lo = hex4(), (0xDC00...0xDFFF).contains(lo) else { return false }
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(u) {
                        return false
                    }
                    out.append(contentsOf: String(Unicode.Scalar(u)!).utf8)
                default:
                    return false
                }
            }
            return false
        }

        private mutating func hex4() -> UInt32? {
            guard i + 4 <= p.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = p[i + k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x61...0x66: d = c - 0x61 + 10
                case 0x41...0x46: d = c - 0x41 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            i += 4
            return v
        }

        /// Any JSON value, checked and skipped (nesting at most 64 deep).
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < 64 else { return false }
            whitespace()
            guard i < p.count else { return false }
            switch p[i] {
            case 0x7B:
                var key = [UInt8]()
                return object(keys: &key) { _, r in r.skipValue(depth: depth + 1) }
            case 0x5B:
                i += 1
                if byte(0x5D) { return true }
                while true {
                    guard skipValue(depth: depth + 1) else { return false }
                    if byte(0x2C) { continue }
                    return byte(0x5D)
                }
            case 0x22:
                var sink = [UInt8]()
                return string(into: &sink)
            case 0x74: return literal("true")
            case 0x66: return literal("false")
            case 0x6E: return literal("null")
            default: return number()
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number() -> Bool {
            func digits(_ r: inout Reader) -> Int {
                let s = r.i
                while r.i < r.p.count, (0x30...0x39).contains(r.p[r.i]) { r.i += 1 }
                return r.i - s
            }
            if i < p.count, p[i] == 0x2D { i += 1 }
            guard i < p.count else { return false }
            if p[i] == 0x30 { i += 1 } else if digits(&self) == 0 { return false }
            if i < p.count, p[i] == 0x2E {
                i += 1
                guard digits(&self) > 0 else { return false }
            }
            if i < p.count, p[i] == 0x65 || p[i] == 0x45 {
                i += 1
                if i < p.count, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
                guard digits(&self) > 0 else { return false }
            }
            return true
        }
    }
}
