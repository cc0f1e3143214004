import TipCore

/// Group commit (SECURITY.md §4.3): submissions queue here, one writer commits everything
/// queued in one transaction, then resumes every waiter. A caller returns only after its tip's
/// transaction committed with synchronous=FULL, so a 201 always means durable.
public actor GroupCommitWriter {
    private let database: IntakeDatabase
    private var pending: [(SealedTip, CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    public let maxBatch: Int
    /// Sizes of the batches committed so far, for benchmarks and tests (bounded).
    public private(set) var recentBatchSizes: [Int] = []

    /// Told each committed batch's size (for the metrics' batch histogram).
    let onBatch: @Sendable (Int) -> Void

    public init(database: IntakeDatabase, maxBatch: Int = 256, onBatch: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.database = database
        self.maxBatch = maxBatch
        self.onBatch = onBatch
    }

    public func submit(_ tip: SealedTip) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            pending.append((tip, c))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let n = min(pending.count, maxBatch)
            let batch = Array(pending.prefix(n))
            pending.removeFirst(n)
            do {
                try await database.insert(batch.map(\.0))
                for (_, c) in batch { c.resume() }
            } catch {
                // Nothing in a failed transaction was stored; every waiter hears so and no one
                // is acknowledged.
                for (_, c) in batch { c.resume(throwing: error) }
            }
            recentBatchSizes.append(n)
            onBatch(n)
            if recentBatchSizes.count > 1024 { recentBatchSizes.removeFirst(512) }
        }
        flushing = false
    }
}
