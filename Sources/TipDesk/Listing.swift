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
            let ua = (a.triage?.urgency ?? .normal).rank, ub = (b.triage?.urgency ?? .normal).rank
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
    public func search(_ query: String, filter: TipFilter = TipFilter()) throws -> [OpenedTip] {
        let records = try db.records().filter { filter.matchesDay($0.day) && $0.opened }
        let progress = ProgressMeter("searching", total: 2 * records.count)
        defer { progress.finish() }
        let candidates = try decrypt(records, progress: progress).filter(filter.matches)
        var hits = Set<TipID>()
        // In slices, so the progress line moves; each slice runs on every core.
        let slice = 4096
        for start in stride(from: 0, to: candidates.count, by: slice) {
            let part = candidates[start..<min(candidates.count, start + slice)]
            let items = part.map { t -> (TipID, [String]) in
                let d = t.document!
                return (t.id, [d.body] + d.fields.keys.sorted().map { d.fields[$0]! })
            }
            hits.formUnion(TextSearch.search(query, in: items))
            progress.advance(by: part.count)
        }
        progress.advance(by: records.count - candidates.count)
        return TipOrder.sorted(candidates.filter { hits.contains($0.id) })
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
        let opened = Parallel.map(records.count, progress: progress) { i in Self.decrypt(records[i], key: key) }
        for (_, ok) in opened { try ok.get() }
        return opened.map(\.0)
    }
}
