import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Progress of a long import or search, on stderr. Silent unless stderr is a terminal
/// (`isatty(2)`: scripts and tests see no carriage returns) and the work has already taken more
/// than a second, so quick commands print nothing extra. The line says how far, never what: no
/// id or text of a tip.
public final class ProgressMeter: Sendable {
    private struct State {
        var done = 0
        var lastDraw: UInt64 = 0
        var drawn = false
    }

    private let label: String
    private let total: Int
    private let enabled: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private let state = Mutex(State())
    private let write: @Sendable (String) -> Void

    /// `enabled` defaults to whether stderr is a terminal.
    public init(
        _ label: String, total: Int, enabled: Bool = isatty(2) == 1,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.total = total
        self.enabled = enabled
        self.write = write
    }

    /// Records `n` more items done; redraws at most five times a second, after the first second.
    public func advance(by n: Int = 1) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let line: String? = state.withLock { s in
            s.done += n
            guard now - start > 1_000_000_000, now - s.lastDraw > 200_000_000 else { return nil }
            s.lastDraw = now
            s.drawn = true
            return "\rtipdesk: \(label): \(s.done)/\(total)"
        }
        if let line { write(line) }
    }

    /// Ends the line if one was drawn.
    public func finish() {
        guard enabled else { return }
        let line: String? = state.withLock { s in s.drawn ? "\rtipdesk: \(label): \(s.done)/\(total)\n" : nil }
        if let line { write(line) }
    }
}

/// Runs work over all cores in contiguous chunks (`Workers.perform`), keeping input order.
enum Parallel {
    static func map<T: Sendable>(
        _ count: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, progress: ProgressMeter? = nil,
        _ body: @Sendable (Int) -> T
    ) -> [T] {
        map(count, threads: threads, progress: progress, scratch: { () }) { i, _ in body(i) }
    }

    /// As above, with one `scratch` value per chunk, made by `make` and passed to each call of
    /// the chunk in turn: a locked buffer reused from item to item, say.
    static func map<T: Sendable, S>(
        _ count: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, progress: ProgressMeter? = nil,
        scratch make: @Sendable () -> S, _ body: @Sendable (Int, inout S) -> T
    ) -> [T] {
        if count == 0 { return [] }
        // More chunks than threads, so a progress line moves and uneven tips even out.
        let size = (count + max(1, threads * 16) - 1) / max(1, threads * 16)
        let chunks = (count + size - 1) / size
        let slots = ChunkResults<T>(count: chunks)
        Workers.perform(iterations: chunks, threads: threads) { c in
            let range = (c * size)..<min(count, (c + 1) * size)
            var out = [T]()
            out.reserveCapacity(range.count)
            var scratch = make()
            for i in range { out.append(body(i, &scratch)) }
            slots.set(c, out)
            progress?.advance(by: range.count)
        }
        return slots.joined()
    }
}
