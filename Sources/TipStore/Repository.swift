import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import TipCore

/// Where the server puts sealed tips. SQLite now; PostgreSQL (several intake nodes) later
/// implements the same protocol. `store` returns only once the tip is durable.
public protocol TipRepository: Sendable {
    func store(_ tip: SealedTip) async throws
}

extension GroupCommitWriter: TipRepository {
    public func store(_ tip: SealedTip) async throws { try await submit(tip) }
}

/// What the admin listener needs from the store (SECURITY.md §5.1–5.2). SQLite now; the
/// PostgreSQL store will implement it too.
public protocol IntakeAdministration: Sendable {
    func pull(all: Bool) throws -> (bundle: Data, count: Int)
    func purge(_ ack: AckPayload) throws -> IntakeDatabase.PurgeResult
    func reviewerKey(_ id: KeyID) throws -> [UInt8]?
}

extension IntakeDatabase: IntakeAdministration {}

/// Refuses new tips when the data directory's file system has less than `minimumFreeBytes`
/// free (SECURITY.md §4.3): the server answers 503 `storage_full` rather than acknowledge a
/// tip it may not be able to keep, and SQLite never meets a full disk mid-transaction.
public struct DiskFloorRepository: TipRepository {
    public let base: any TipRepository
    public let directory: String
    public let minimumFreeBytes: UInt64

    public init(base: any TipRepository, directory: String, minimumFreeBytes: UInt64) {
        self.base = base
        self.directory = directory
        self.minimumFreeBytes = minimumFreeBytes
    }

    public static func freeBytes(_ directory: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    public func store(_ tip: SealedTip) async throws {
        guard let free = Self.freeBytes(directory), free >= minimumFreeBytes + UInt64(tip.sealed.count) else {
            throw StoreError("storage_full", "the server's disk is below its free-space floor")
        }
        try await base.store(tip)
    }
}
