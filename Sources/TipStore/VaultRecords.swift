import Foundation
import GRDB
import TipCore

/// A row of the vault's `record` table (SECURITY.md §10.2). Everything but `box` is plaintext
/// metadata a thief of the vault can read; `box` is the tip and its triage, encrypted under the
/// data key, or nil while the tip has not opened (then `openError` says why and the sealed bytes
/// are still in the `tip` table).
public struct VaultRecord: Equatable, Sendable {
    public let id: TipID
    public let instance: String
    public let keyID: KeyID
    public let day: Day
    /// The padded length P of §3.3: the sealed length minus 48.
    public let sizeClass: Int
    /// BLAKE2b-256 of the sealed bytes as received, lowercase hex: what an ack lists (§5.2), and
    /// how a re-import recognises a tip it holds after the sealed bytes are gone.
    public let sealedBlake2b: String
    public let openError: String?
    public let acked: Bool
    public let box: [UInt8]?

    public init(
        id: TipID, instance: String, keyID: KeyID, day: Day, sizeClass: Int, sealedBlake2b: String, openError: String?, acked: Bool,
        box: [UInt8]?
    ) {
        self.id = id
        self.instance = instance
        self.keyID = keyID
        self.day = day
        self.sizeClass = sizeClass
        self.sealedBlake2b = sealedBlake2b
        self.openError = openError
        self.acked = acked
        self.box = box
    }

    public var opened: Bool { box != nil }

    static let columns = "id, instance, key_id, day, size_class, sealed_blake2b, open_error, acked, box"

    /// A row of `SELECT \(columns)`, read by position: by name, GRDB compares names without
    /// case, and that was a fifth of reading 100k records for a search (issue 9's profile).
    init(row r: Row) throws {
        id = TipID(r[0])!
        instance = r[1]
        keyID = KeyID(r[2])!
        day = Day(r[3])!
        sizeClass = r[4]
        sealedBlake2b = r[5]
        openError = r[6]
        acked = (r[7] as Int) == 1
        box = try r.withUnsafeData(atIndex: 8) { $0.map { [UInt8]($0) } }
    }
}

/// One entry of the audit log as stored: `box` is the encrypted entry, `mac` the chain value.
public struct AuditRow: Equatable, Sendable {
    public let seq: Int64
    public let box: [UInt8]
    public let mac: [UInt8]

    public init(seq: Int64, box: [UInt8], mac: [UInt8]) {
        self.seq = seq
        self.box = box
        self.mac = mac
    }
}

extension VaultDatabase {
    static let importsKey = "imports"
    public static let dataKeyIDKey = "data_key_id"

    public func records() throws -> [VaultRecord] {
        // A cursor: each row is read into its record, not first copied into a row of its own.
        try pool.read { db in try Array(Row.fetchCursor(db, sql: "SELECT \(VaultRecord.columns) FROM record").map(VaultRecord.init(row:))) }
    }

    public func record(_ id: TipID) throws -> VaultRecord? {
        try pool.read { db in try VaultWriter(db: db).record(id) }
    }

    /// Held ids (records, and sealed tips not yet opened) that start with `prefix`; at most two,
    /// enough to tell "one" from "ambiguous".
    public func ids(prefix: String) throws -> [TipID] {
        try pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM record WHERE substr(id, 1, ?1) = ?2
                    UNION SELECT id FROM tip WHERE substr(id, 1, ?1) = ?2 ORDER BY id LIMIT 2
                    """,
                arguments: [prefix.utf8.count, prefix]
            ).compactMap(TipID.init)
        }
    }

    /// Sealed tips held in the `tip` table, with their instance: the ones that have not opened.
    public func sealedTips() throws -> [(tip: SealedTip, instance: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, instance, key_id, day, sealed FROM tip ORDER BY id").map { (Self.tip($0), $0["instance"]) }
        }
    }

    /// Sealed tips with no record: tips a vault imported before the format of §10, which the
    /// first unlocked session moves into records.
    public func unrecordedSealedCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM tip WHERE id NOT IN (SELECT id FROM record)") ?? 0 }
    }

    /// The hash of the sealed bytes of every record, by id: how an import recognises what it
    /// holds.
    public func heldHashes() throws -> [TipID: String] {
        try pool.read { db in
            var out = [TipID: String]()
            for r in try Row.fetchAll(db, sql: "SELECT id, sealed_blake2b FROM record") { out[TipID(r["id"])!] = r["sealed_blake2b"] }
            return out
        }
    }

    public func auditRows() throws -> [AuditRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, box, mac FROM audit ORDER BY seq").map {
                AuditRow(seq: $0["seq"], box: [UInt8]($0["box"] as Data), mac: [UInt8]($0["mac"] as Data))
            }
        }
    }

    public func meta(_ key: String) throws -> String? {
        try pool.read { db in try VaultWriter(db: db).meta(key) }
    }

    /// How many imports have added or opened anything, ever. The ack compares it with the count
    /// the last backup recorded, so an import after the backup is caught even on the same day.
    public func importCount() throws -> Int { try pool.read { db in try Self.importCount(db) } }

    static func importCount(_ db: Database) throws -> Int {
        Int(try VaultWriter(db: db).meta(importsKey) ?? "0") ?? 0
    }

    static func auditTail(_ db: Database) throws -> (seq: Int64, mac: [UInt8])? {
        try Row.fetchOne(db, sql: "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").map { ($0["seq"], [UInt8]($0["mac"] as Data)) }
    }

    /// Runs `body` in one write transaction: everything it does commits together or not at all.
    public func write<T>(_ body: (VaultWriter) throws -> T) throws -> T {
        try pool.write { db in try body(VaultWriter(db: db)) }
    }

    /// Moves the WAL's pages into the database and truncates the WAL, so the ciphertext of
    /// rows deleted with `secure_delete` leaves the `-wal` file too (as after a server purge).
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}

/// The operations of one write transaction (`VaultDatabase.write`).
public struct VaultWriter {
    let db: Database

    // The per-tip statements of an import are cached (compiled once per transaction, not once
    // per tip: issue 9's import profile had SQLite's authorizer, run at every compile, at 4%).
    public func record(_ id: TipID) throws -> VaultRecord? {
        let st = try db.cachedStatement(sql: "SELECT \(VaultRecord.columns) FROM record WHERE id = ?")
        return try Row.fetchOne(st, arguments: [id.hex]).map { try VaultRecord(row: $0) }
    }

    /// The sealed bytes held for `id` in the `tip` table, if any.
    public func sealed(_ id: TipID) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT sealed FROM tip WHERE id = ?", arguments: [id.hex]).map { [UInt8]($0) }
    }

    public func insert(_ r: VaultRecord) throws {
        try db.cachedStatement(sql: "INSERT INTO record (\(VaultRecord.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").execute(
            arguments: [
                r.id.hex, r.instance, r.keyID.hex, r.day.text, r.sizeClass, r.sealedBlake2b, r.openError, r.acked ? 1 : 0,
                r.box.map { Data($0) },
            ])
    }

    /// Stores a tip that opened: its box replaces the error, and its sealed bytes are deleted
    /// (secure_delete overwrites them).
    public func setOpened(_ id: TipID, box: [UInt8]) throws {
        try db.execute(sql: "UPDATE record SET box = ?, open_error = NULL WHERE id = ?", arguments: [Data(box), id.hex])
        try db.execute(sql: "DELETE FROM tip WHERE id = ?", arguments: [id.hex])
    }

    public func deleteSealed(_ id: TipID) throws {
        try db.execute(sql: "DELETE FROM tip WHERE id = ?", arguments: [id.hex])
    }

    public func setOpenError(_ id: TipID, _ code: String) throws {
        try db.execute(sql: "UPDATE record SET open_error = ? WHERE id = ? AND box IS NULL", arguments: [code, id.hex])
    }

    /// Replaces the box of an opened tip (a triage change: a fresh nonce each time).
    public func replaceBox(_ id: TipID, box: [UInt8]) throws {
        try db.execute(sql: "UPDATE record SET box = ? WHERE id = ? AND box IS NOT NULL", arguments: [Data(box), id.hex])
        guard db.changesCount == 1 else { throw StoreError("not_found", "no opened tip \(id)") }
    }

    /// Keeps the sealed bytes of a tip that did not open, for a later retry.
    public func keepSealed(_ t: SealedTip, instance: String) throws {
        try db.execute(
            sql: "INSERT INTO tip (id, instance, key_id, day, sealed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            arguments: [t.id.hex, instance, t.keyID.hex, t.day.text, Data(t.sealed)])
    }

    public func markAcked(_ ids: [TipID]) throws {
        for id in ids {
            try db.execute(sql: "UPDATE record SET acked = 1 WHERE id = ? AND box IS NOT NULL", arguments: [id.hex])
        }
    }

    /// Opened tips of `instance` not yet acknowledged, by id: what the next ack lists.
    public func unacked(instance: String) throws -> [(id: TipID, blake2b: String)] {
        try Row.fetchAll(
            db, sql: "SELECT id, sealed_blake2b FROM record WHERE instance = ? AND box IS NOT NULL AND acked = 0 ORDER BY id",
            arguments: [instance]
        ).map { (TipID($0["id"])!, $0["sealed_blake2b"]) }
    }

    /// The instances with opened tips not yet acknowledged, with how many each.
    public func unackedInstances() throws -> [(instance: String, count: Int)] {
        try Row.fetchAll(
            db, sql: "SELECT instance, count(*) AS n FROM record WHERE box IS NOT NULL AND acked = 0 GROUP BY instance ORDER BY instance"
        ).map { ($0["instance"], $0["n"]) }
    }

    public func meta(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM vault_meta WHERE key = ?", arguments: [key])
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try db.execute(
            sql: "INSERT INTO vault_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    public func countImport() throws {
        try setMeta(VaultDatabase.importsKey, String(try VaultDatabase.importCount(db) + 1))
    }

    /// The last entry's seq and MAC, or nil for an empty log.
    public func auditTail() throws -> (seq: Int64, mac: [UInt8])? { try VaultDatabase.auditTail(db) }

    public func append(_ row: AuditRow) throws {
        try db.execute(sql: "INSERT INTO audit (seq, box, mac) VALUES (?, ?, ?)", arguments: [row.seq, Data(row.box), Data(row.mac)])
    }

    /// Whether the vault holds anything encrypted under a data key: records that opened, or
    /// audit entries. A missing data key is then an error, never a reason to make a new one.
    public func hasEncryptedData() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM record WHERE box IS NOT NULL) OR EXISTS (SELECT 1 FROM audit)") ?? false
    }
}
