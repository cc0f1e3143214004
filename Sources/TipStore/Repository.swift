import TipCore

/// Where the server puts sealed tips. SQLite now; PostgreSQL (several intake nodes) later
/// implements the same protocol. `store` returns only once the tip is durable.
public protocol TipRepository: Sendable {
    func store(_ tip: SealedTip) async throws
}

extension GroupCommitWriter: TipRepository {
    public func store(_ tip: SealedTip) async throws { try await submit(tip) }
}
