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
    /// Called once the idle work is done (below): the server hands freed memory back to the
    /// system there, so an idle server after a flood is as small as a fresh one.
    let onIdle: @Sendable () -> Void
    /// How long the queue must stay empty before the store's reserve of free pages is refilled
    /// (§4.2): a refill is a few tens of milliseconds of writing, which tips arriving during a
    /// flood should not wait behind.
    let refillAfterIdle: Duration
    /// Batches committed so far: a refill waits for this to stay unchanged.
    private var committedBatches = 0
    private var refillScheduled = false

    public init(
        database: IntakeDatabase, maxBatch: Int = 256, refillAfterIdle: Duration = .seconds(1),
        onBatch: @escaping @Sendable (Int) -> Void = { _ in }, onIdle: @escaping @Sendable () -> Void = {}
    ) {
        self.database = database
        self.maxBatch = maxBatch
        self.refillAfterIdle = refillAfterIdle
        self.onBatch = onBatch
        self.onIdle = onIdle
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
            committedBatches += 1
        }
        flushing = false
        scheduleRefill()
    }

    /// Once the queue has stayed empty for `refillAfterIdle`, refills the store's reserve of
    /// free pages in a random order, empties the WAL (SECURITY.md §4.2) and releases the page
    /// caches' memory. A failure (a nearly full disk, a reader in the way) leaves things as
    /// they were: they are tried again after the next batch.
    private func scheduleRefill() {
        guard !refillScheduled else { return }
        refillScheduled = true
        let seen = committedBatches
        Task {
            try? await Task.sleep(for: refillAfterIdle)
            await refillIfStillIdle(since: seen)
        }
    }

    private func refillIfStillIdle(since seen: Int) async {
        refillScheduled = false
        guard committedBatches == seen, !flushing, pending.isEmpty else {
            if !flushing { scheduleRefill() }
            return
        }
        _ = try? await database.refillFreePages()
        // After the refill, whose fillers pass through the WAL too: the WAL tells the order of
        // the last commits (§4.2). Tips that came during the refill schedule the next try.
        guard committedBatches == seen, !flushing, pending.isEmpty else { return }
        _ = try? await database.truncateLog()
        // The page caches a flood filled (the writer's and the readers') go back to malloc.
        await database.releaseMemory()
        onIdle()
    }
}
