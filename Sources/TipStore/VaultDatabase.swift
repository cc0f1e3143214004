import Foundation
import GRDB
import TipCore

/// The reviewer's store of imported tips, on the offline machine. In v1 it holds each tip as it
/// arrived, still sealed to an intake key, so the vault file alone reveals ids, days and size
/// classes but no content.
public final class VaultDatabase: Sendable {
    public static let fileName = "vault.sqlite"
    private let pool: DatabasePool

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

    public func tipCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM tip") ?? 0 }
    }

    /// Writes a consistent copy of the database to `url` (which must not exist) with
    /// `VACUUM INTO`, for the backup: the live file is in WAL mode, so copying it with its
    /// `-wal` could catch a checkpoint half done. The copy is compacted (no free pages holding
    /// deleted rows) and in rollback mode. Returns the number of tips in the copy.
    public func snapshot(to url: URL) throws -> Int {
        // VACUUM cannot run inside a transaction, which every GRDB read opens.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [url.path]) }
        var config = Configuration()
        config.readonly = true
        let copy = try DatabaseQueue(path: url.path, configuration: config)
        defer { try? copy.close() }
        return try copy.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM tip") ?? 0 }
    }

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

    /// Tips whose id starts with `prefix` (so a reviewer can type a short id).
    public func tips(idPrefix prefix: String) throws -> [SealedTip] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, key_id, day, sealed FROM tip WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 2",
                arguments: [prefix.utf8.count, prefix]
            ).map(Self.tip)
        }
    }

    private static func tip(_ r: Row) -> SealedTip {
        SealedTip(id: TipID(r["id"])!, keyID: KeyID(r["key_id"])!, day: Day(r["day"])!, sealed: [UInt8](r["sealed"] as Data))
    }
}
