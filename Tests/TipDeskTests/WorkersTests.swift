import Foundation
import Testing

@testable import TipDesk

/// tipdesk's own threads (`Workers`), which replaced `concurrentPerform` (issue 9): every
/// iteration runs once, the iterations really run at the same time, and one thread means the
/// caller's alone.
@Suite struct WorkersTests {
    final class Tally: @unchecked Sendable {
        let cond = NSCondition()
        var counts: [Int]
        var threads = Set<String>()
        init(_ n: Int) { counts = Array(repeating: 0, count: n) }
        func hit(_ i: Int) {
            cond.lock()
            counts[i] += 1
            threads.insert("\(pthread_self())")
            cond.broadcast()
            cond.unlock()
        }
    }

    @Test func everyIterationRunsOnce() {
        for (n, threads) in [(0, 2), (1, 2), (2, 1), (7, 2), (1000, 4)] {
            let t = Tally(n)
            Workers.perform(iterations: n, threads: threads) { t.hit($0) }
            #expect(t.counts == Array(repeating: 1, count: n), "n=\(n) threads=\(threads)")
        }
    }

    /// Iteration 0 waits for iteration 1 to have started: on the caller's thread alone it would
    /// wait forever (here: 10 s, then fail).
    @Test func iterationsRunAtTheSameTime() {
        let t = Tally(2)
        let met = NSCondition()
        nonisolated(unsafe) var started1 = false
        nonisolated(unsafe) var met1 = false
        Workers.perform(iterations: 2, threads: 2) { i in
            met.lock()
            if i == 1 {
                started1 = true
                met.broadcast()
            } else {
                let deadline = Date(timeIntervalSinceNow: 10)
                while !started1, met.wait(until: deadline) {}
                met1 = started1
            }
            met.unlock()
            t.hit(i)
        }
        #expect(met1, "iteration 0 saw iteration 1 start while it was still running")
        #expect(t.threads.count == 2)
    }

    @Test func oneThreadIsTheCallers() {
        let t = Tally(50)
        let caller = "\(pthread_self())"
        Workers.perform(iterations: 50, threads: 1) { t.hit($0) }
        #expect(t.threads == [caller])
    }

    /// A file read in parts is the file; what cannot be read whole is nil.
    @Test func fileReadInPartsIsTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for size in [0, 1, 4097, (8 << 20) + 3, (20 << 20) + 1] {
            let bytes = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
            let url = dir.appendingPathComponent("f\(size)")
            try bytes.write(to: url)
            for threads in [1, 2, 3] {
                #expect(Workers.contents(of: url.path, threads: threads) == bytes, "size \(size), \(threads) threads")
            }
        }
        #expect(Workers.contents(of: dir.appendingPathComponent("missing").path) == nil)
        #expect(Workers.contents(of: dir.path) == nil, "a directory is not a bundle")
        // A pipe has no size: it is read to its end.
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let payload = Data((0..<100_000).map { UInt8($0 % 251) })
        let writer = Thread {
            let h = FileHandle(forWritingAtPath: fifo)!
            h.write(payload)
            try? h.close()
        }
        writer.start()
        #expect(Workers.contents(of: fifo) == payload)
    }
}
