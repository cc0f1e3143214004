/// The terms of a whole rule set compiled into one table, so a tip is folded once, split into
/// words once, and each word is looked up once (issue 9's import profile: the rules were a
/// third of an import, in a sorted per-tip vocabulary built and binary-searched per term, and in
/// reference counting of word slices).
///
/// Every distinct term word (`RuleTermWord`) gets an id. A byte trie of the prefix and exact
/// words finds, for one word of a tip, every term word it matches in one walk of its bytes: a
/// prefix word at each node passed, an exact word at the node where the word ends. A tip's
/// matches are a bitset of term word ids, and for the words of phrases (terms of two or more
/// words) their positions too, so a phrase is checked only against consecutive words. The
/// semantics are those documented on `Rules`, unchanged.
struct RuleMatcher: Sendable {
    /// Distinct phrases, each as its term word ids.
    private var phrases: [[Int32]] = []
    private var checks: [RuleTerm: Int32] = [:]
    private var wordIDs: [RuleTermWord: Int32] = [:]
    /// Per term word id: whether it is a word of some phrase, so its positions are needed.
    private var inPhrase: [Bool] = []
    private var minorID: Int32 = -1
    private var trie = ByteTrie()

    init() {}

    /// How to check `term`, adding it if new: a term of one word is that word's id (≥ 0), a
    /// phrase is the complement of its index in `phrases` (< 0).
    mutating func add(_ term: RuleTerm) -> Int32 {
        if let c = checks[term] { return c }
        var ids = [Int32]()
        for w in term { ids.append(id(of: w)) }
        let c: Int32
        if ids.count == 1 {
            c = ids[0]
        } else {
            for w in ids { inPhrase[Int(w)] = true }
            c = ~Int32(phrases.count)
            phrases.append(ids)
        }
        checks[term] = c
        return c
    }

    private mutating func id(of w: RuleTermWord) -> Int32 {
        if let i = wordIDs[w] { return i }
        let i = Int32(inPhrase.count)
        inPhrase.append(false)
        wordIDs[w] = i
        switch w {
        case .prefix(let p): trie.insert(p, id: i, exact: false)
        case .exact(let e): trie.insert(e, id: i, exact: true)
        case .minorAge: minorID = i
        }
        return i
    }

    /// The term words found in a tip's texts.
    struct Found {
        fileprivate var present: [UInt64]
        /// (word position, term word id) for phrase words only, in position order. Positions run
        /// on across texts with a gap of one between texts, so no phrase spans two texts.
        fileprivate var at: [(pos: Int32, id: Int32)] = []

        fileprivate func has(_ id: Int32) -> Bool { present[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 }
    }

    /// Finds the term words in `texts` (a tip's body, then its field values).
    func find(in texts: [String]) -> Found {
        var found = Found(present: Array(repeating: 0, count: (inPhrase.count + 63) / 64))
        var normalized = [UInt8]()
        var pos: Int32 = 0
        for text in texts {
            Self.normalize(text, into: &normalized)
            normalized.withUnsafeBufferPointer { b in
                var start = 0
                for i in 0...b.count where i == b.count || b[i] == 0x20 {
                    if i > start {
                        let word = UnsafeBufferPointer(rebasing: b[start..<i])
                        trie.walk(word) { id in record(id, pos, &found) }
                        if minorID >= 0 && RuleTermWord.isMinorAge(word) { record(minorID, pos, &found) }
                        pos += 1
                    }
                    start = i + 1
                }
            }
            pos += 1
        }
        return found
    }

    @inline(__always)
    private func record(_ id: Int32, _ pos: Int32, _ found: inout Found) {
        found.present[Int(id) >> 6] |= 1 << UInt64(id & 63)
        if inPhrase[Int(id)] { found.at.append((pos, id)) }
    }

    /// Whether the term `add` returned `check` for matches consecutive words of one text.
    @inline(__always)
    func matches(_ check: Int32, _ found: Found) -> Bool {
        check >= 0 ? found.has(check) : matchesPhrase(Int(~check), found)
    }

    private func matchesPhrase(_ p: Int, _ found: Found) -> Bool {
        let ids = phrases[p]
        for w in ids where !found.has(w) { return false }
        let at = found.at
        for (i, start) in at.enumerated() where start.id == ids[0] {
            var k = i + 1
            var ok = true
            for j in 1..<ids.count {
                let want = start.pos + Int32(j)
                while k < at.count && at[k].pos < want { k += 1 }
                var m = k
                while m < at.count && at[m].pos == want && at[m].id != ids[j] { m += 1 }
                guard m < at.count && at[m].pos == want else {
                    ok = false
                    break
                }
            }
            if ok { return true }
        }
        return false
    }

    /// `TextSearch.normalize` as bytes, into a reused buffer: the fold table when it can promise
    /// the reference's answer, else the reference itself (as `normalize` decides).
    static func normalize(_ text: String, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var s = text
        let kind = s.withUTF8 { FoldTable.shared.fold($0, into: &out) }
        if kind != .simple {
            out.removeAll(keepingCapacity: true)
            out.append(contentsOf: TextSearch.referenceNormalize(text).utf8)
        }
    }
}

/// A byte trie in one open-addressed table of edges, (node, byte) → child: one multiply and
/// usually one probe per byte, with no per-node allocation.
struct ByteTrie: Sendable {
    /// Per node (0 is the root): the prefix word and the exact word ending there, or -1.
    private var prefixID: [Int32] = [-1]
    private var exactID: [Int32] = [-1]
    /// Edge keys `node << 8 | byte`, plus one so that 0 marks an empty slot.
    private var keys: [UInt64] = Array(repeating: 0, count: 16)
    private var children: [Int32] = Array(repeating: 0, count: 16)
    private var edges = 0

    mutating func insert(_ bytes: [UInt8], id: Int32, exact: Bool) {
        var node: Int32 = 0
        for b in bytes {
            if let c = child(node, b) {
                node = c
                continue
            }
            let c = Int32(prefixID.count)
            prefixID.append(-1)
            exactID.append(-1)
            if (edges + 1) * 2 > keys.count { grow() }
            put(Self.key(node, b), c)
            edges += 1
            node = c
        }
        if exact { exactID[Int(node)] = id } else { prefixID[Int(node)] = id }
    }

    /// Calls `hit` with every prefix word of `word` (shortest first), then with the exact word
    /// equal to it.
    @inline(__always)
    func walk(_ word: UnsafeBufferPointer<UInt8>, _ hit: (Int32) -> Void) {
        var node: Int32 = 0
        for b in word {
            guard let c = child(node, b) else { return }
            node = c
            let p = prefixID[Int(c)]
            if p >= 0 { hit(p) }
        }
        let e = exactID[Int(node)]
        if e >= 0 && node != 0 { hit(e) }
    }

    @inline(__always)
    private static func key(_ node: Int32, _ byte: UInt8) -> UInt64 { (UInt64(node) << 8 | UInt64(byte)) + 1 }

    @inline(__always)
    private static func slot(_ key: UInt64, mask: Int) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask }

    @inline(__always)
    private func child(_ node: Int32, _ byte: UInt8) -> Int32? {
        let k = Self.key(node, byte)
        let mask = keys.count - 1
        var i = Self.slot(k, mask: mask)
        while true {
            let found = keys[i]
            if found == k { return children[i] }
            if found == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    private mutating func put(_ k: UInt64, _ c: Int32) {
        let mask = keys.count - 1
        var i = Self.slot(k, mask: mask)
        while keys[i] != 0 { i = (i + 1) & mask }
        keys[i] = k
        children[i] = c
    }

    private mutating func grow() {
        let old = zip(keys, children).filter { $0.0 != 0 }
        keys = Array(repeating: 0, count: keys.count * 2)
        children = Array(repeating: 0, count: keys.count)
        for (k, c) in old { put(k, c) }
    }
}
