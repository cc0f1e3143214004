import Foundation
import GRDB
import TipCore
import TipCrypto

/// The server's store: sealed tips only (non-negotiable 1). The one place that writes to it.
///
/// SECURITY.md §4: one row per tip holds the random id, key_id, the UTC day and the sealed
/// bytes. No time of day, no client data, and no column that could hold any. Tables are
/// WITHOUT ROWID: a rowid grows in insertion order and would tell a seizer the arrival order
/// that the random ids hide; rows are stored in id order instead.
public final class IntakeDatabase: Sendable {
    public static let fileName = "tipgate.sqlite"
    private let pool: DatabasePool
    public let path: String

    public init(directory: String) throws {
        try Connection.prepareDirectory(directory)
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        pool = try Connection.openPool(at: path, label: "tipgate.intake")
        try Self.migrator.migrate(pool)
        try pool.write { db in
            if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance'") == nil {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('instance', ?)", arguments: [Random.hex128()])
            }
        }
    }

    /// Migrations are frozen once shipped: never edit one, add the next (STYLE.md, GRDB).
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        key TEXT NOT NULL PRIMARY KEY,
                        value TEXT NOT NULL
                    ) STRICT;
                    CREATE TABLE tip (
                        id TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 32),
                        key_id TEXT NOT NULL CHECK (length(key_id) = 16),
                        day TEXT NOT NULL CHECK (length(day) = 10),
                        sealed BLOB NOT NULL CHECK (length(sealed) >= 1072),
                        exported INTEGER NOT NULL DEFAULT 0 CHECK (exported IN (0, 1))
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX tip_exported ON tip (exported);
                    """)
        }
        return m
    }

    /// The server-instance id: random, made once per install, carried in every bundle.
    public func instanceID() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance'")! }
    }

    /// Inserts a batch in one transaction and returns when it is committed (and, with
    /// synchronous=FULL, on disk). Group commit calls this with everything that queued up.
    public func insert(_ tips: [SealedTip]) async throws {
        try await pool.write { db in
            for t in tips {
                try db.execute(
                    sql: "INSERT INTO tip (id, key_id, day, sealed) VALUES (?, ?, ?, ?)",
                    arguments: [t.id.hex, t.keyID.hex, t.day.text, Data(t.sealed)])
            }
        }
    }

    public struct Counts: Equatable, Sendable {
        public let total: Int
        public let unexported: Int
    }

    public func counts() throws -> Counts {
        try pool.read { db in
            Counts(
                total: try Int.fetchOne(db, sql: "SELECT count(*) FROM tip")!,
                unexported: try Int.fetchOne(db, sql: "SELECT count(*) FROM tip WHERE exported = 0")!)
        }
    }

    /// Writes the tips not yet exported (or all, for a lost stick) to `url` as a bundle, and
    /// only after the file is durable marks them exported. Records go out sorted by id so a
    /// bundle does not reveal arrival order.
    @discardableResult
    public func export(to url: URL, all: Bool) throws -> Int {
        // Read a snapshot, write and sync the file, and only then mark those rows: the write
        // lock is held for the UPDATE alone, so a slow USB stick never stalls intake.
        let (instance, tips) = try pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, key_id, day, sealed FROM tip \(all ? "" : "WHERE exported = 0") ORDER BY id")
            let instance = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance'")!
            return (instance, rows.map(Self.tip))
        }
        let data = ExportBundle.encode(instance: instance, created: .today, tips: tips) { BLAKE2b.hash($0) }
        try DurableFile.writeNew(data, to: url)
        try pool.write { db in
            let ids = String(decoding: try JSONEncoder().encode(tips.map(\.id.hex)), as: UTF8.self)
            try db.execute(
                sql: "UPDATE tip SET exported = 1 WHERE exported = 0 AND id IN (SELECT value FROM json_each(?))",
                arguments: [ids])
        }
        return tips.count
    }

    private static func tip(_ r: Row) -> SealedTip {
        SealedTip(id: TipID(r["id"])!, keyID: KeyID(r["key_id"])!, day: Day(r["day"])!, sealed: [UInt8](r["sealed"] as Data))
    }

    /// For tests and status: every row, sealed.
    public func allTips() throws -> [SealedTip] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, key_id, day, sealed FROM tip ORDER BY id").map(Self.tip)
        }
    }

    /// The live `PRAGMA synchronous` of a writer connection (2 = FULL), for tests that must
    /// prove durability at run time.
    public func synchronousSetting() async throws -> Int {
        try await pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous")! }
    }
}
