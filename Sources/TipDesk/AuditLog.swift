import Foundation
import TipCore
import TipCrypto
import TipStore

/// What the audit log records (SECURITY.md §10.3). `purge` is reserved for the command of that
/// name: when it exists it MUST append its entry like the others. `partner` and `org` record
/// changes to the registries of §11.1.
public enum AuditAction: String, Codable, CaseIterable, Sendable {
    case importBundle = "import"
    case reopen, show, export, triage, ack, backup, purge, forward, partner, org
}

/// A detail of an entry: ids, counts, codes. Never tip text, note text or a search query.
public enum AuditValue: Codable, Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case bool(Bool)
    case string(String)
    case strings([String])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            self = .strings(try c.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .bool(let b): try c.encode(b)
        case .string(let s): try c.encode(s)
        case .strings(let a): try c.encode(a)
        }
    }

    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .bool(let b): b ? "yes" : "no"
        case .string(let s): s
        case .strings(let a) where a.isEmpty: "-"
        case .strings(let a) where a.count <= 6: a.joined(separator: ",")
        case .strings(let a): a.prefix(2).joined(separator: ",") + ",… (\(a.count) in all)"
        }
    }
}

/// One decrypted entry: `{"action":…,"day":"YYYY-MM-DD","details":{…},"v":1}` in its box.
public struct AuditEntry: Equatable, Sendable {
    public let seq: Int64
    public let day: Day
    public let action: AuditAction
    public let details: [String: AuditValue]
    public let mac: String

    struct Wire: Codable {
        var v: Int
        var day: Day
        var action: AuditAction
        var details: [String: AuditValue]
    }
}

/// The result of `AuditLog.verify`: how many entries verified, the head, and the first bad
/// entry if any.
public struct AuditVerification: Equatable, Sendable {
    public let entries: Int
    /// Lowercase hex of the last entry's MAC; nil for an empty log.
    public let head: String?
    /// The state.json anchor that was checked (its seq), if the vault has one.
    public let anchorSeq: Int64?
    /// The first bad entry and what is wrong with it; nil when the log verifies.
    public let problem: Problem?

    public struct Problem: Equatable, Sendable {
        public let seq: Int64
        public let message: String
    }
}

/// The encrypted, chained audit log (SECURITY.md §10.3). Entries are appended in the same
/// transaction as the action they record, so an action and its entry commit together.
public enum AuditLog {
    static let zeroMAC = [UInt8](repeating: 0, count: 32)

    /// Encrypts and chains one entry after the current tail. Returns the stored row; its `mac`
    /// is the new head.
    @discardableResult
    static func append(
        _ action: AuditAction, _ details: [String: AuditValue], day: Day, key: VaultDataKey, in w: VaultWriter
    ) throws -> AuditRow {
        let tail = try w.auditTail()
        let seq = (tail?.seq ?? 0) + 1
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let plain = try enc.encode(AuditEntry.Wire(v: 1, day: day, action: action, details: details))
        let box = plain.withUnsafeBytes { key.sealAudit($0, seq: seq) }
        let row = AuditRow(seq: seq, box: box, mac: key.auditMAC(previous: tail?.mac ?? zeroMAC, seq: seq, box: box))
        try w.append(row)
        return row
    }

    /// Decrypts every entry in order. Stops at the first that does not verify.
    public static func entries(_ rows: [AuditRow], key: VaultDataKey) throws -> [AuditEntry] {
        let v = verify(rows, key: key, anchor: nil)
        if let p = v.problem { throw DeskError("the audit log is damaged: \(p.message)", hints: ["see: tipdesk audit verify"]) }
        return try rows.map { try decode($0, key: key) }
    }

    static func decode(_ row: AuditRow, key: VaultDataKey) throws -> AuditEntry {
        let plain = try key.openAudit(row.box, seq: row.seq)
        let w = try plain.withUnsafeBytes { try JSONDecoder().decode(AuditEntry.Wire.self, from: Data($0)) }
        guard w.v == 1 else { throw DeskError("audit entry \(row.seq) has an unknown version") }
        return AuditEntry(seq: row.seq, day: w.day, action: w.action, details: w.details, mac: Hex.encode(row.mac))
    }

    /// Recomputes the chain from the first entry and names the first bad one: a missing seq (an
    /// entry removed), a MAC that does not match (an entry or MAC edited, or entries
    /// renumbered), a box that does not decrypt. Then checks the anchor (`state.json`: the seq
    /// and head at the last backup or ack) and any extra head (from an ack file): an anchor past
    /// the end means the tail was cut off.
    public static func verify(
        _ rows: [AuditRow], key: VaultDataKey, anchor: (seq: Int64, head: String)?, heads: [String] = []
    ) -> AuditVerification {
        var previous = zeroMAC
        var expected: Int64 = 1
        func result(_ problem: AuditVerification.Problem?) -> AuditVerification {
            AuditVerification(
                entries: rows.count, head: rows.last.map { Hex.encode($0.mac) }, anchorSeq: anchor?.seq, problem: problem)
        }
        for row in rows {
            guard row.seq == expected else {
                return result(.init(seq: expected, message: "entry \(expected) is missing (the next entry held is \(row.seq))"))
            }
            guard VaultDataKey.macsEqual(key.auditMAC(previous: previous, seq: row.seq, box: row.box), row.mac) else {
                return result(.init(seq: row.seq, message: "entry \(row.seq) was altered: its MAC does not match the chain"))
            }
            guard (try? decode(row, key: key)) != nil else {
                return result(.init(seq: row.seq, message: "entry \(row.seq) does not decrypt"))
            }
            previous = row.mac
            expected += 1
        }
        let last = expected - 1
        if let anchor {
            guard anchor.seq <= last else {
                return result(
                    .init(
                        seq: last + 1,
                        message:
                            "entries \(last + 1) to \(anchor.seq) are missing: the log was cut short after the last backup or ack recorded entry \(anchor.seq)")
                )
            }
            guard Hex.encode(rows[Int(anchor.seq) - 1].mac) == anchor.head else {
                return result(
                    .init(seq: anchor.seq, message: "entry \(anchor.seq) is not the one the last backup or ack recorded: the log was replaced"))
            }
        }
        let macs = Set(rows.map { Hex.encode($0.mac) })
        for h in heads where !macs.contains(h) {
            return result(.init(seq: last + 1, message: "the log does not contain the head \(h.prefix(16))…: it was cut short or replaced"))
        }
        return result(nil)
    }
}

extension VaultSession {
    /// The state.json anchor, if a backup or ack recorded one.
    func auditAnchor() throws -> (seq: Int64, head: String)? {
        guard let s = try vault.state(), let seq = s.auditSeq, let head = s.auditHead else { return nil }
        return (seq, head)
    }

    public func verifyAudit(heads: [String] = []) throws -> AuditVerification {
        AuditLog.verify(try db.auditRows(), key: dataKey, anchor: try auditAnchor(), heads: heads)
    }

    public func auditEntries() throws -> [AuditEntry] { try AuditLog.entries(try db.auditRows(), key: dataKey) }

    /// Records the current head in state.json (after a backup or an ack), keeping the rest.
    func recordAuditAnchor(seq: Int64, head: [UInt8]) throws {
        var state = try vault.state() ?? VaultState(lastBackup: nil, backupTips: 0)
        state.auditSeq = seq
        state.auditHead = Hex.encode(head)
        try vault.recordState(state)
    }
}
