import Foundation
import GRDB
import TipCore

/// The reviewer's store of imported tips, on the offline machine (SECURITY.md §10). Since v3 a
/// tip is opened once at import and kept as a `record`: plaintext metadata (id, instance, key
/// id, day, size class, the hash of the sealed bytes, whether it opened and was acknowledged)
/// and a box encrypted under the vault's data key. The v1 `tip` table keeps the sealed bytes of
/// tips that have not opened yet (no key, or damaged), and only those. The file alone reveals
/// ids, days, key ids and size classes, never content or triage.
public final class VaultDatabase: Sendable {
    public static let fileName = "vault.sqlite"
    let pool: DatabasePool

    public init(directory: String) throws {
        try Connection.prepareDirectory(directory)
        pool = try Connection.openPool(
            at: (directory as NSString).appendingPathComponent(Self.fileName), label: "tipdesk.vault")
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tip (
                        id TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 32),
                        instance TEXT NOT NULL CHECK (length(instance) = 32),
                        key_id TEXT NOT NULL CHECK (length(key_id) = 16),
                        day TEXT NOT NULL CHECK (length(day) = 10),
                        sealed BLOB NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX tip_day ON tip (day);
                    """)
        }
        // Every key id any keyring this vault signed has listed (SECURITY.md §2.6): a tip
        // sealed to any other key is an alarm.
        m.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE listed_key (
                        key_id TEXT NOT NULL PRIMARY KEY CHECK (length(key_id) = 16)
                    ) STRICT, WITHOUT ROWID;
                    """)
        }
        // The vault of SECURITY.md §10: each tip opened once and re-encrypted under the data
        // key (`record.box`, NULL while it has not opened, with the reason in `open_error`),
        // the encrypted and chained audit log, and counters (`vault_meta`: the data key's id
        // and the number of imports, which the ack's backup check compares).
        m.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE record (
                        id TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 32),
                        instance TEXT NOT NULL CHECK (length(instance) = 32),
                        key_id TEXT NOT NULL CHECK (length(key_id) = 16),
                        day TEXT NOT NULL CHECK (length(day) = 10),
                        size_class INTEGER NOT NULL CHECK (size_class >= 1024),
                        sealed_blake2b TEXT NOT NULL CHECK (length(sealed_blake2b) = 64),
                        open_error TEXT CHECK (open_error IS NULL OR length(open_error) BETWEEN 1 AND 40),
                        acked INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1)),
                        box BLOB,
                        CHECK ((box IS NULL) = (open_error IS NOT NULL)),
                        CHECK (acked = 0 OR box IS NOT NULL)
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX record_day ON record (day);
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        box BLOB NOT NULL,
                        mac BLOB NOT NULL
                    ) STRICT;
                    CREATE TABLE vault_meta (
                        key TEXT NOT NULL PRIMARY KEY,
                        value TEXT NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    """)
        }
        // Forwarding (SECURITY.md §11): the partner and organization registries, each one box
        // under the data key (who an organization works with is as secret as its tips), and the
        // signed forward each received forward came as, boxed, to check again at every show.
        m.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE registry (
                        name TEXT NOT NULL PRIMARY KEY CHECK (name IN ('partners', 'orgs')),
                        box BLOB NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    CREATE TABLE received_forward (
                        id TEXT NOT NULL PRIMARY KEY REFERENCES record (id),
                        box BLOB NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    """)
        }
        return m
    }

    public struct ImportResult: Equatable, Sendable {
        public var added = 0
        public var alreadyHad = 0
        /// Ids already in the vault with different sealed bytes: kept as they were, reported.
        public var conflicts: [TipID] = []
    }

    /// Adds the tips of one bundle in one transaction. Idempotent: a tip already held with the
    /// same bytes is skipped; the UNIQUE primary key, not a check-then-insert, guarantees it.
    public func importTips(_ tips: [SealedTip], instance: String) throws -> ImportResult {
        try pool.write { db in
            var r = ImportResult()
            for t in tips {
                try db.execute(
                    sql: "INSERT INTO tip (id, instance, key_id, day, sealed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    arguments: [t.id.hex, instance, t.keyID.hex, t.day.text, Data(t.sealed)])
                if db.changesCount == 1 {
                    r.added += 1
                } else {
                    let existing = try Data.fetchOne(db, sql: "SELECT sealed FROM tip WHERE id = ?", arguments: [t.id.hex])
                    if existing == Data(t.sealed) { r.alreadyHad += 1 } else { r.conflicts.append(t.id) }
                }
            }
            return r
        }
    }

    public func recordListed(_ keys: [KeyID]) throws {
        try pool.write { db in
            for k in keys {
                try db.execute(sql: "INSERT INTO listed_key (key_id) VALUES (?) ON CONFLICT DO NOTHING", arguments: [k.hex])
            }
        }
    }

    public func listedKeys() throws -> Set<KeyID> {
        try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT key_id FROM listed_key").compactMap(KeyID.init)) }
    }

    /// Every tip held: records, and sealed tips of a v2 vault that no session has opened yet.
    public func tipCount() throws -> Int {
        try pool.read { db in try Self.tipCount(db) }
    }

    static func tipCount(_ db: Database) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT (SELECT count(*) FROM record) + (SELECT count(*) FROM tip WHERE id NOT IN (SELECT id FROM record))") ?? 0
    }

    /// Writes a consistent copy of the database to `url` (which must not exist) with
    /// `VACUUM INTO`, for the backup: the live file is in WAL mode, so copying it with its
    /// `-wal` could catch a checkpoint half done. The copy is compacted (no free pages holding
    /// deleted rows) and in rollback mode. Returns what the copy holds, read from the copy
    /// itself so that it matches the copy even if another process wrote in between.
    public func snapshot(to url: URL) throws -> Snapshot {
        // VACUUM cannot run inside a transaction, which every GRDB read opens.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [url.path]) }
        var config = Configuration()
        config.readonly = true
        let copy = try DatabaseQueue(path: url.path, configuration: config)
        defer { try? copy.close() }
        return try copy.read { db in
            let tail = try Self.auditTail(db)
            return Snapshot(
                tips: try Self.tipCount(db), imports: try Self.importCount(db), auditSeq: tail?.seq ?? 0, auditHead: tail?.mac)
        }
    }

    public struct Snapshot: Equatable, Sendable {
        public let tips: Int
        public let imports: Int
        public let auditSeq: Int64
        public let auditHead: [UInt8]?
    }

    /// The sealed tips still held: those that have not opened (`sealedTips` in §10.2).
    public func allTips() throws -> [SealedTip] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, key_id, day, sealed FROM tip ORDER BY day DESC, id").map(Self.tip)
        }
    }

    public func tip(_ id: TipID) throws -> SealedTip? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, key_id, day, sealed FROM tip WHERE id = ?", arguments: [id.hex]).map(Self.tip)
        }
    }

    static func tip(_ r: Row) -> SealedTip {
        SealedTip(id: TipID(r["id"])!, keyID: KeyID(r["key_id"])!, day: Day(r["day"])!, sealed: [UInt8](r["sealed"] as Data))
    }
}
