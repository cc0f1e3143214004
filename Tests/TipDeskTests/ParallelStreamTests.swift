import Foundation
import Testing

@testable import TipDesk

/// The background opening an import writes from (`ParallelStream`): results come in input
/// order, and a consumer that stops early (a failed write) stops the work and waits for it.
@Suite struct ParallelStreamTests {
    @Test func resultsInInputOrder() {
        for (count, threads) in [(0, 2), (1, 1), (15, 2), (1000, 2), (10_007, 4)] {
            let s = ParallelStream(count, threads: threads, scratch: { 0 }) { i, calls in
                calls += 1
                return i * 3
            }
            var got = [Int]()
            for _ in 0..<count { got.append(s.next()) }
            s.finish()
            #expect(got == (0..<count).map { $0 * 3 })
        }
    }

    @Test func finishingEarlyStopsTheWork() {
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var n = 0
            func add() {
                lock.lock()
                n += 1
                lock.unlock()
            }
        }
        let done = Counter()
        let s = ParallelStream(100_000, threads: 2, scratch: { () }) { i, _ in
            usleep(20)
            done.add()
            return i
        }
        #expect(s.next() == 0 && s.next() == 1)
        s.finish()
        let after = done.n
        usleep(50_000)
        #expect(done.n == after, "no work runs after finish")
        #expect(after < 100_000)
    }
}
