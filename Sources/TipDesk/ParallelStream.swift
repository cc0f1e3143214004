import Foundation

/// Work over all cores, as `Parallel.map`, started in the background and taken in input order
/// by one consumer as soon as each chunk is done: an import writes each tip while the next
/// ones are still being opened, instead of writing them all afterwards on one core (issue 9:
/// the write was a serial second after the opening).
final class ParallelStream<T: Sendable>: @unchecked Sendable {
    private let cond = NSCondition()
    /// Each chunk's results once done; a consumed chunk is released.
    private var chunks: [[T]?]
    private var cancelled = false
    /// Chunks handed out to the workers so far.
    private var taken = 0
    private var workers: Workers.Handle!
    private let size: Int
    private let count: Int
    /// The consumer's place: the chunk it is reading and the index in it.
    private var current: [T] = []
    private var nextIndex = 0

    /// Starts `body` for each index below `count`, with one `scratch` per chunk as in
    /// `Parallel.map`.
    init<S>(
        _ count: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, progress: ProgressMeter? = nil,
        scratch make: @escaping @Sendable () -> S, _ body: @escaping @Sendable (Int, inout S) -> T
    ) {
        self.count = count
        // Small chunks, so the consumer starts early and has little left when the last is done.
        size = max(16, count / max(1, threads * 64))
        let n = (count + size - 1) / size
        chunks = Array(repeating: nil, count: n)
        // Threads of its own, started now (`Workers`: a dispatch pool added its second late).
        workers = Workers.start(max(1, min(threads, n))) { [self] in
            while let c = take(n) {
                let range = (c * size)..<min(count, (c + 1) * size)
                var out = [T]()
                out.reserveCapacity(range.count)
                var scratch = make()
                for i in range { out.append(body(i, &scratch)) }
                cond.lock()
                chunks[c] = out
                cond.broadcast()
                cond.unlock()
                progress?.advance(by: range.count)
            }
        }
    }

    /// The next chunk to work on, or nil once all are taken or the stream was finished.
    private func take(_ n: Int) -> Int? {
        cond.lock()
        defer { cond.unlock() }
        guard !cancelled, taken < n else { return nil }
        taken += 1
        return taken - 1
    }

    /// The result for the next index, in order; waits for its chunk. Only one thread calls this.
    func next() -> T {
        precondition(nextIndex < count, "internal error: read past the end of a parallel stream")
        let c = nextIndex / size
        let i = nextIndex % size
        if i == 0 {
            cond.lock()
            while chunks[c] == nil { cond.wait() }
            current = chunks[c]!
            chunks[c] = nil
            cond.unlock()
        }
        nextIndex += 1
        return current[i]
    }

    /// Stops chunks not yet started and waits for the running ones: after this, no thread
    /// touches what the work captured. Call it once the consumer is done, or failed.
    func finish() {
        cond.lock()
        cancelled = true
        cond.unlock()
        workers.wait()
    }
}

/// `work` started at once on another thread; `value()` waits for its result. For work that
/// shares no state with what the caller does meanwhile: an import stretches the passphrase
/// (Argon2id, one core) while the bundle is read and checked (issue 9).
final class Beside<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private var done: Workers.Handle!

    init(_ work: @escaping () throws -> T) {
        nonisolated(unsafe) let work = work
        done = Workers.start(1) { [self] in result = Result { try work() } }
    }

    /// The result, once the work is done; the work's error if it threw.
    func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}
