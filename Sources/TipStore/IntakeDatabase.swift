import Foundation
import GRDB
import TipCore
import TipCrypto

/// The server's store: sealed tips only (non-negotiable 1). The one place that writes to it.
///
/// SECURITY.md §4: one row per tip holds the random id, key_id, the UTC day and the sealed
/// bytes. No time of day, no client data, and no column that could hold any. Tables that keep
/// rows are WITHOUT ROWID: a rowid grows in insertion order and would tell a seizer the arrival
/// order that the random ids hide (`pad` keeps none). Since v3, tips are stored in (day, id)
/// order, and since v4 they take pages freed in a random order (§4.2).
public final class IntakeDatabase: Sendable {
    public static let fileName = "tipgate.sqlite"
    private let pool: DatabasePool
    public let path: String

    /// The page size of a new store (SECURITY.md §4.1). A sealed tip of the 4 KiB class is a
    /// 4209-byte row: with 1024-byte pages its overflow fills exactly four pages and 129 bytes
    /// stay in the b-tree, where 4096-byte pages left ~370 bytes of an overflow page unused.
    /// An existing store keeps the page size it was made with.
    public static let newStorePageSize = 1024
    /// WAL pages between automatic checkpoints, which run inside the commit that crosses them
    /// and so delay that batch's acks. Measured with `make bench` (issue 9): 4096 pages (4 MiB)
    /// made rarer but longer stalls and a p99 of 40.6 ms; SQLite's 1000 (1 MiB at 1 KiB pages)
    /// gave 24.1 ms at the same throughput. Stated here so it is not changed by accident.
    public static let writerCheckpointPages = 1000

    public init(directory: String, pageSize: Int = IntakeDatabase.newStorePageSize) throws {
        try Connection.prepareDirectory(directory)
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        pool = try Connection.openPool(
            at: path, label: "tipgate.intake", newStorePageSize: pageSize, writerCheckpointPages: Self.writerCheckpointPages)
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
        // Courier transport keys allowed on the admin listener (SECURITY.md §5.1).
        m.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE reviewer (
                        key_id TEXT NOT NULL PRIMARY KEY CHECK (length(key_id) = 16),
                        public_key BLOB NOT NULL CHECK (length(public_key) = 32)
                    ) STRICT, WITHOUT ROWID;
                    """)
        }
        // Tips keyed by (day, id), not id (SECURITY.md §4.2). Keyed by the random id alone,
        // every insert landed on a random leaf of a tree that grows with the store, and of the
        // `tip_exported` index too: measured with a C writer (issue 9), inserts cost 1.8-2x the
        // CPU with a million tips stored than with ten thousand, and tipgate's intake rate fell
        // to 0.7x. Today's tips now share the tree's newest edge, at any size. `day` is already
        // in every row, so the order tells a seizer nothing new; within a day the random id
        // still hides arrival order. The index on `exported` carries the key too, so it is
        // ordered (exported, day, id) and new rows stay on its edge as well. There is no index
        // on id alone, since that would again be a random insert per tip: ids are unique
        // because each is 128 random bits (§4.2), and the rare lookups by id (purge) walk the
        // keys once.
        m.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tip_v3 (
                        id TEXT NOT NULL CHECK (length(id) = 32),
                        key_id TEXT NOT NULL CHECK (length(key_id) = 16),
                        day TEXT NOT NULL CHECK (length(day) = 10),
                        sealed BLOB NOT NULL CHECK (length(sealed) >= 1072),
                        exported INTEGER NOT NULL DEFAULT 0 CHECK (exported IN (0, 1)),
                        PRIMARY KEY (day, id)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO tip_v3 (id, key_id, day, sealed, exported) SELECT id, key_id, day, sealed, exported FROM tip;
                    DROP TABLE tip;
                    ALTER TABLE tip_v3 RENAME TO tip;
                    CREATE INDEX tip_exported ON tip (exported);
                    """)
        }
        // Filler rows, written and deleted in one transaction and never kept: they leave the
        // file a reserve of free pages in a random order, which new tips take (§4.2,
        // `refillFreePages`). A rowid table, since it holds no row between transactions and so
        // no order, and SQLite compares its integer keys without reading the rows.
        m.registerMigration("v4") { db in
            try db.execute(sql: "CREATE TABLE pad (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL) STRICT")
        }
        return m
    }

    /// Free pages below which an idle server refills the reserve (§4.2): about 400 tips of the
    /// 4 KiB class.
    static let reserveLowWater = 2048
    /// Filler rows a refill writes and deletes: 4144 bytes each, about 5200 free pages at 1 KiB,
    /// room for about a thousand 4 KiB-class tips.
    static let fillerRows = 1024
    /// A refill is skipped on a disk with less free space than this, so it never takes the
    /// room the free-space floor keeps for tips (§4.3).
    static let refillMinimumFreeBytes: UInt64 = 256 << 20

    /// Refills the file's reserve of free pages, in a random order, if it is low (SECURITY.md
    /// §4.2), in a transaction of its own; returns whether it did. SQLite places a new row's
    /// pages at the end of the file, or in free pages when it has them, so a file that only
    /// grew tells the order in which tips arrived: a rank correlation of 0.9 between arrival and
    /// file position (`Tests/tools/arrival-order.py`). New tips that take pages freed in a
    /// random order showed none (−0.05). The fillers are zeros, deleted with `secure_delete`.
    /// The group-commit writer calls this when the server has been idle (`GroupCommitWriter`),
    /// never in a tip's transaction: in the commit path it cost 8–17% of intake under a flood.
    @discardableResult
    public func refillFreePages() async throws -> Bool {
        guard refillHasRoom else { return false }
        return try await pool.write(Self.refill)
    }

    /// As `refillFreePages`, on the caller's thread: the server calls it once at start, before
    /// it listens, so the first tips of a new store, or of a restart after a flood used up the
    /// reserve, do not wait for an idle second to be laid out in a random order (§4.2).
    @discardableResult
    public func refillFreePagesBeforeServing() throws -> Bool {
        guard refillHasRoom else { return false }
        // On a connection of its own with a small page cache, closed after: through the
        // writer's 2 MB cache the fillers left an idle server 2 MB larger (malloc keeps what
        // SQLite frees), against issue 9's idle RSS goal of 40 MB.
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -256") }
        let queue = try DatabaseQueue(path: path, configuration: Connection.configuration(label: "tipgate.intake.refill", config))
        defer { try? queue.close() }
        return try queue.write(Self.refill)
    }

    /// Copies the WAL into the database file and truncates it to nothing (SECURITY.md §4.2).
    /// The WAL keeps a quiet server's newest tips in the order they committed, one commit
    /// each, until SQLite's next checkpoint, and older frames past its end until they are
    /// overwritten: an idle writer empties it. Returns false if a reader kept it from
    /// finishing (it is tried again at the next idle second).
    @discardableResult
    public func truncateLog() async throws -> Bool {
        try await pool.writeWithoutTransaction(Self.checkpointTruncating)
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: whether it finished (no reader kept it from the end).
    private static func checkpointTruncating(_ db: Database) throws -> Bool {
        try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")?[0] as Int? == 0
    }

    /// Frees what the connections' page caches hold and do not need (GRDB's `releaseMemory`):
    /// an idle server keeps no flood's worth of pages (issue 9's idle RSS goal).
    /// Without blocking the caller: the writer's memory on the writer's queue, the readers'
    /// (closed) when they are done.
    public func releaseMemory() async {
        try? await pool.writeWithoutTransaction { db in db.releaseMemory() }
        pool.releaseMemoryEventually()
    }

    private var refillHasRoom: Bool {
        guard let free = DiskFloorRepository.freeBytes((path as NSString).deletingLastPathComponent) else { return false }
        return free >= Self.refillMinimumFreeBytes
    }

    private static func refill(_ db: Database) throws -> Bool {
        guard try Int.fetchOne(db, sql: "PRAGMA freelist_count")! < Self.reserveLowWater else { return false }
        let insert = try db.cachedStatement(sql: "INSERT INTO pad (n, bytes) VALUES (?, zeroblob(4144))")
        for n in 0..<Self.fillerRows { try insert.execute(arguments: [n]) }
        let delete = try db.cachedStatement(sql: "DELETE FROM pad WHERE n = ?")
        for n in (0..<Self.fillerRows).shuffled() { try delete.execute(arguments: [n]) }
        return true
    }

    /// The server-instance id: random, made once per install, carried in every bundle.
    public func instanceID() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance'")! }
    }

    /// Inserts a batch in one transaction and returns when it is committed (and, with
    /// synchronous=FULL, on disk). Group commit calls this with everything that queued up.
    public func insert(_ tips: [SealedTip]) async throws {
        try await pool.write { db in
            // Compiled once per connection, not once per tip (issue 9's intake profile).
            let insert = try db.cachedStatement(sql: "INSERT INTO tip (id, key_id, day, sealed) VALUES (?, ?, ?, ?)")
            for t in tips {
                try insert.execute(arguments: [t.id.hex, t.keyID.hex, t.day.text, Data(t.sealed)])
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
        // Build from a snapshot, write and sync the file, and only then mark those rows: the
        // write lock is held for the UPDATE alone, so a slow USB stick never stalls intake.
        let (data, ids) = try makeBundle(all: all)
        try DurableFile.writeNew(data, to: url)
        try markExported(ids)
        return ids.count
    }

    /// The bundle of `export`, returned instead of written: for the admin listener's pull. Rows
    /// are marked exported once the bundle is built; `all` re-sends everything still held.
    public func pull(all: Bool) throws -> (bundle: Data, count: Int) {
        let (data, ids) = try makeBundle(all: all)
        try markExported(ids)
        return (data, ids.count)
    }

    private func makeBundle(all: Bool) throws -> (Data, [TipID]) {
        let (instance, tips) = try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, key_id, day, sealed FROM tip \(all ? "" : "WHERE exported = 0")")
            return (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'instance'")!, Self.byID(rows))
        }
        return (ExportBundle.encode(instance: instance, created: .today, tips: tips) { BLAKE2b.hash($0) }, tips.map(\.id))
    }

    private static func tip(_ r: Row) -> SealedTip {
        SealedTip(id: TipID(r["id"])!, keyID: KeyID(r["key_id"])!, day: Day(r["day"])!, sealed: [UInt8](r["sealed"] as Data))
    }

    /// Rows in id order, as a bundle lists them (§5). Sorted here rather than with ORDER BY id,
    /// which the (day, id) key cannot serve: SQLite would sort the sealed bytes in a temporary
    /// b-tree that may spill to a file.
    private static func byID(_ rows: [Row]) -> [SealedTip] {
        rows.map(Self.tip).sorted { $0.id < $1.id }
    }

    private func markExported(_ ids: [TipID]) throws {
        try pool.write { db in
            let json = String(decoding: try JSONEncoder().encode(ids.map(\.hex)), as: UTF8.self)
            try db.execute(
                sql: "UPDATE tip SET exported = 1 WHERE exported = 0 AND id IN (SELECT value FROM json_each(?))", arguments: [json])
        }
    }

    public struct PurgeResult: Equatable, Sendable, Codable {
        public var deleted = 0
        /// Listed in the ack but not held (already deleted, or never here).
        public var notHeld = 0
        /// Held, but the ack's hash is not of the bytes held: kept.
        public var mismatched = 0
    }

    /// Deletes exactly the acknowledged rows (SECURITY.md §5.2): same instance, same id, same
    /// BLAKE2b-256 of the sealed bytes. Then checkpoints the WAL with TRUNCATE so the deleted
    /// ciphertext leaves the -wal file too; secure_delete has already overwritten its pages.
    public func purge(_ ack: AckPayload) throws -> PurgeResult {
        guard ack.instance == (try instanceID()) else {
            throw StoreError("wrong_instance", "the acknowledgement is for another server install; nothing was deleted")
        }
        var result = PurgeResult()
        try pool.write { db in
            // No index on id alone (§4.2, migration v3): one pass over the keys finds the day of
            // each acknowledged id. It reads the b-tree's cells, never the sealed bytes.
            let acked = Set(ack.tips.map(\.id.hex))
            var dayOf = [String: String]()
            let keys = try Row.fetchCursor(db, sql: "SELECT day, id FROM tip")
            while let row = try keys.next() {
                let id: String = row["id"]
                if acked.contains(id) { dayOf[id] = row["day"] }
            }
            for e in ack.tips {
                guard let day = dayOf[e.id.hex],
                    let sealed = try Data.fetchOne(
                        db, sql: "SELECT sealed FROM tip WHERE day = ? AND id = ?", arguments: [day, e.id.hex])
                else {
                    result.notHeld += 1
                    continue
                }
                guard Hex.encode(BLAKE2b.hash(sealed)) == e.blake2b else {
                    result.mismatched += 1
                    continue
                }
                try db.execute(sql: "DELETE FROM tip WHERE day = ? AND id = ?", arguments: [day, e.id.hex])
                result.deleted += 1
            }
        }
        _ = try pool.writeWithoutTransaction(Self.checkpointTruncating)
        return result
    }

    /// The UTC day of the oldest tip not yet exported, for status and its age warning.
    public func oldestUnexportedDay() throws -> Day? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT min(day) FROM tip WHERE exported = 0").flatMap(Day.init) }
    }

    /// The optional hard retention limit (off by default; SECURITY.md §5.2): deletes tips older
    /// than `days`, exported or not, and returns how many. Unacknowledged tips are never
    /// dropped unless an admin turned this on.
    public func enforceRetention(days: Int, today: Day = .today) throws -> Int {
        let cutoff = today.adding(days: -days)
        let n = try pool.write { db -> Int in
            try db.execute(sql: "DELETE FROM tip WHERE day < ?", arguments: [cutoff.text])
            return db.changesCount
        }
        if n > 0 { _ = try pool.writeWithoutTransaction(Self.checkpointTruncating) }
        return n
    }

    public func addReviewer(_ doc: CourierKeyDocument) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO reviewer (key_id, public_key) VALUES (?, ?) ON CONFLICT (key_id) DO NOTHING",
                arguments: [doc.keyID.hex, Data(doc.publicKey)])
        }
    }

    @discardableResult
    public func removeReviewer(_ id: KeyID) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM reviewer WHERE key_id = ?", arguments: [id.hex])
            return db.changesCount == 1
        }
    }

    public func reviewerKey(_ id: KeyID) throws -> [UInt8]? {
        try pool.read { db in try Data.fetchOne(db, sql: "SELECT public_key FROM reviewer WHERE key_id = ?", arguments: [id.hex]).map(Array.init) }
    }

    public func reviewers() throws -> [KeyID] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT key_id FROM reviewer ORDER BY key_id").compactMap(KeyID.init) }
    }

    /// For tests and status: every row, sealed.
    public func allTips() throws -> [SealedTip] {
        try pool.read { db in
            Self.byID(try Row.fetchAll(db, sql: "SELECT id, key_id, day, sealed FROM tip"))
        }
    }

    /// The live `PRAGMA synchronous` of a writer connection (2 = FULL), for tests that must
    /// prove durability at run time.
    public func synchronousSetting() async throws -> Int {
        try await pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous")! }
    }

    /// The live settings of the writer connection, for tests and status.
    public struct WriterSettings: Equatable, Sendable {
        public let pageSize: Int
        /// As SQLite reports it: negative is KiB, positive is pages.
        public let cacheSize: Int
        public let synchronous: Int
        public let journalMode: String
        public let walAutocheckpoint: Int
        /// Pages in the store, the WAL's newer copies included.
        public let pageCount: Int
        /// Free pages: the reserve new tips take (§4.2) and pages freed by purges.
        public let freePages: Int
        /// The `tip` table's key columns, in order (§4.2).
        public let tipKey: [String]
    }

    public func writerSettings() async throws -> WriterSettings {
        try await pool.writeWithoutTransaction { db in
            WriterSettings(
                pageSize: try Int.fetchOne(db, sql: "PRAGMA page_size")!,
                cacheSize: try Int.fetchOne(db, sql: "PRAGMA cache_size")!,
                synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous")!,
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode")!,
                walAutocheckpoint: try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")!,
                pageCount: try Int.fetchOne(db, sql: "PRAGMA page_count")!,
                freePages: try Int.fetchOne(db, sql: "PRAGMA freelist_count")!,
                tipKey: try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('tip') WHERE pk > 0 ORDER BY pk"))
        }
    }
}
