import Foundation
import GRDB

/// Opens a SQLite database the way every tipgate store must (SECURITY.md §4.1):
/// WAL, `synchronous=FULL` (a commit is on disk before it returns, so an acknowledgement is
/// durable), and `secure_delete=ON` (deleted rows are overwritten, not left in free pages).
enum Connection {
    /// `newStorePageSize` is the page size a store gets when this call creates it (SQLite
    /// fixes it with the first write, and GRDB's switch to WAL is that write, so it is set
    /// before). An existing store keeps its page size: only a VACUUM would change it, and
    /// that is never done here.
    static func openPool(
        at path: String, label: String, newStorePageSize: Int? = nil, writerCheckpointPages: Int? = nil
    ) throws -> DatabasePool {
        var config = Configuration()
        config.prepareDatabase { db in
            if !db.configuration.readonly {
                if let size = newStorePageSize { try db.execute(sql: "PRAGMA page_size = \(size)") }
                if let pages = writerCheckpointPages { try db.execute(sql: "PRAGMA wal_autocheckpoint = \(pages)") }
            }
        }
        let pool = try DatabasePool(path: path, configuration: configuration(label: label, config))
        // GRDB switches the writer to synchronous=NORMAL right after enabling WAL, after
        // prepareDatabase ran. NORMAL can lose the last commits on power loss, which would
        // break "a 201 means durable" (non-negotiable 4), so set FULL again on the single
        // writer connection and check it there, where it matters.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            let secure = try Int.fetchOne(db, sql: "PRAGMA secure_delete")
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
            guard sync == 2, secure == 1, mode == "wal" else {
                throw StoreError("store_unsafe", "SQLite did not accept WAL, synchronous=FULL and secure_delete=ON")
            }
        }
        return pool
    }

    /// `config` with what every connection to a store gets, after its own preparation: FULL,
    /// `secure_delete`, foreign keys, statement arguments kept out of errors.
    static func configuration(label: String, _ config: Configuration = Configuration()) -> Configuration {
        var config = config
        config.label = label
        // Statement arguments are ciphertext or ids; keep them out of errors and traces anyway.
        config.publicStatementArguments = false
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        return config
    }

    /// Creates `dir` with mode 0700 if it is missing, and refuses one that others can read.
    static func prepareDirectory(_ dir: String) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir) {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let attrs = try fm.attributesOfItem(atPath: dir)
        if let mode = attrs[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw StoreError("store_permissions", "\(dir) is readable by other users; chmod 700 it")
        }
    }
}

public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}
