import Dispatch
import Foundation
import Synchronization
import TipCore

#if canImport(Glibc)
    import Glibc
#endif

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
///
/// Far above the floor, the free space is measured at most every 50 ms (`remeasureAfter`;
/// statvfs at every tip was 4% of a submission's handling, issue 9), each tip taken in between
/// counted as twice its size. That estimate can err by what SQLite writes besides (a checkpoint
/// grows the file by up to 1 MiB, a lone small tip's WAL frames exceed twice its size) and by
/// the other path's tips (the form path has its own floor), a few MiB in 50 ms at most; so
/// within `nearFloor` (64 MiB) of the floor every tip is measured, as before.
public struct DiskFloorRepository: TipRepository {
    public let base: any TipRepository
    public let directory: String
    public let minimumFreeBytes: UInt64
    public static let remeasureAfter: UInt64 = 50_000_000
    public static let nearFloor: UInt64 = 64 << 20
    let remeasureAfter: UInt64
    /// The free bytes of a directory's file system: `freeBytes`, or a stand-in in tests.
    let measure: @Sendable (String) -> UInt64?
    /// The last measurement less what was taken since, and when it was measured.
    private let estimate = FreeSpaceEstimate()

    public init(base: any TipRepository, directory: String, minimumFreeBytes: UInt64) {
        self.init(base: base, directory: directory, minimumFreeBytes: minimumFreeBytes, remeasureAfter: Self.remeasureAfter)
    }

    init(
        base: any TipRepository, directory: String, minimumFreeBytes: UInt64, remeasureAfter: UInt64,
        measure: @escaping @Sendable (String) -> UInt64? = DiskFloorRepository.freeBytes
    ) {
        self.base = base
        self.directory = directory
        self.minimumFreeBytes = minimumFreeBytes
        self.remeasureAfter = remeasureAfter
        self.measure = measure
    }

    public static func freeBytes(_ directory: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    public func store(_ tip: SealedTip) async throws {
        guard takes(UInt64(tip.sealed.count)) else {
            throw StoreError("storage_full", "the server's disk is below its free-space floor")
        }
        try await base.store(tip)
    }

    /// Whether `size` more bytes keep the disk above the floor, by the estimate.
    func takes(_ size: UInt64) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        return estimate.value.withLock { e in
            if e == nil || now &- e!.at >= remeasureAfter || e!.free < minimumFreeBytes + size + Self.nearFloor {
                e = measure(directory).map { (free: $0, at: now) }
            }
            guard let current = e, current.free >= minimumFreeBytes + size else { return false }
            e!.free = current.free - min(current.free, 2 * size)
            return true
        }
    }
}

/// The shared, locked estimate of a `DiskFloorRepository` (a struct, so it holds this by reference).
final class FreeSpaceEstimate: Sendable {
    let value = Mutex<(free: UInt64, at: UInt64)?>(nil)
}
