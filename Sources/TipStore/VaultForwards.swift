import Foundation
import GRDB
import TipCore

/// The forwarding tables of the vault (SECURITY.md §11; migration v4). Both hold boxes only:
/// TipDesk encrypts and decrypts them under the data key.
extension VaultDatabase {
    /// The box of one registry (`partners` or `orgs`), if it was ever written.
    public func registry(_ name: String) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT box FROM registry WHERE name = ?", arguments: [name]).map { [UInt8]($0) }
        }
    }

    /// The box of the signed forward that tip `id` arrived as; nil for a witness's tip.
    public func receivedForward(_ id: TipID) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT box FROM received_forward WHERE id = ?", arguments: [id.hex]).map { [UInt8]($0) }
        }
    }

    /// The ids of every tip that arrived as a forward.
    public func receivedForwardIDs() throws -> Set<TipID> {
        try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM received_forward").compactMap(TipID.init)) }
    }
}

extension VaultWriter {
    public func registry(_ name: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT box FROM registry WHERE name = ?", arguments: [name]).map { [UInt8]($0) }
    }

    public func setRegistry(_ name: String, box: [UInt8]) throws {
        try db.execute(
            sql: "INSERT INTO registry (name, box) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET box = excluded.box",
            arguments: [name, Data(box)])
    }

    /// Records that tip `id` (already inserted) arrived as a forward. Once only: the primary key
    /// refuses a second row.
    public func insertReceivedForward(_ id: TipID, box: [UInt8]) throws {
        try db.execute(sql: "INSERT INTO received_forward (id, box) VALUES (?, ?)", arguments: [id.hex, Data(box)])
    }
}
