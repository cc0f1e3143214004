import Foundation
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
