import Foundation

/// Threads for tipdesk's parallel work (import, reopen, search, list), started at once.
///
/// Why not `DispatchQueue.concurrentPerform`: on Linux, called from a dispatch worker (where a
/// command's async `run` is), it ran on the calling thread alone until libdispatch's pool
/// monitor noticed an idle core and added a thread, about half a second later. perf showed a
/// two-core import of 100k tips opening on one thread for its first 0.5 s, and a search for
/// its first 0.6 s (issue 9).
enum Workers {
    /// Runs `body(i)` for every `i` below `iterations`, handed out in increasing order, on the
    /// calling thread and up to `threads - 1` threads started now; returns once every call has
    /// returned. As `concurrentPerform`, nothing of `body` outlives the call.
    static func perform(
        iterations: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount, _ body: @Sendable (Int) -> Void
    ) {
        let helpers = min(max(1, threads), iterations) - 1
        guard helpers > 0 else {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let run = Run(iterations: iterations, body: body)
            let done = start(helpers) { run.work() }
            run.work()
            done.wait()
            // The helpers' closures no longer call `body`; drop the last reference to it here,
            // before `withoutActuallyEscaping` checks that it did not escape.
            run.release()
        }
    }

    /// Starts `count` threads running `work`; the handle's `wait` returns once all returned.
    /// A thread the system refuses (a process limit) is not waited for forever: its `work` runs
    /// here instead, before this returns. `pthread_create` rather than Foundation's `Thread`,
    /// which on Linux does not report that refusal.
    static func start(_ count: Int, _ work: @escaping @Sendable () -> Void) -> Handle {
        let h = Handle(count: count)
        for _ in 0..<count {
            let job = Unmanaged.passRetained(
                Job {
                    work()
                    h.leave()
                })
            var thread = pthread_t()
            let started = pthread_create(
                &thread, nil,
                { context in
                    Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().run()
                    return nil
                }, job.toOpaque())
            if started == 0 {
                pthread_detach(thread)
            } else {
                job.takeRetainedValue().run()
            }
        }
        return h
    }

    private final class Job: @unchecked Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    final class Handle: @unchecked Sendable {
        private let cond = NSCondition()
        private var running: Int

        init(count: Int) { running = count }

        fileprivate func leave() {
            cond.lock()
            running -= 1
            cond.broadcast()
            cond.unlock()
        }

        func wait() {
            cond.lock()
            while running > 0 { cond.wait() }
            cond.unlock()
        }
    }

    /// The iterations still to hand out, and the body, which `release` lets go of.
    private final class Run: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private let iterations: Int
        private var body: (@Sendable (Int) -> Void)?

        init(iterations: Int, body: @escaping @Sendable (Int) -> Void) {
            self.iterations = iterations
            self.body = body
        }

        private func take() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < iterations else { return nil }
            next += 1
            return next - 1
        }

        func work() {
            lock.lock()
            let body = self.body
            lock.unlock()
            guard let body else { return }
            while let i = take() { body(i) }
        }

        func release() {
            lock.lock()
            body = nil
            lock.unlock()
        }
    }
}

extension Workers {
    /// The whole file at `path`, read in `threads` parts at once (`pread`), or nil if it cannot
    /// be read whole. Copying a 150 MB bundle out of the page cache on one thread was a serial
    /// 0.14 s of a 3.5 s two-core import (issue 9). Read, not mapped: a mapped file on a stick
    /// pulled out mid-import would kill tipdesk with SIGBUS instead of an error.
    static func contents(of path: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        // A pipe or device (`tipdesk import /dev/stdin`) has no size to split: read it to its end.
        guard st.st_mode & S_IFMT == S_IFREG else { return try? FileHandle(fileDescriptor: fd, closeOnDealloc: false).readToEnd() ?? Data() }
        let size = Int(st.st_size)
        var data = Data(count: size)
        let parts = size < 8 << 20 ? 1 : max(1, threads)
        let ok = data.withUnsafeMutableBytes { (buf: UnsafeMutableRawBufferPointer) -> Bool in
            guard let base = buf.baseAddress else { return true }
            let target = Target(base: base)
            let failed = Flag()
            perform(iterations: parts, threads: parts) { p in
                var at = size * p / parts
                let end = size * (p + 1) / parts
                while at < end {
                    let n = pread(fd, target.base + at, end - at, off_t(at))
                    if n < 0, errno == EINTR { continue }
                    // An error, or the file ended early (it shrank while read).
                    guard n > 0 else { return failed.set() }
                    at += n
                }
            }
            return !failed.isSet
        }
        return ok ? data : nil
    }

    /// A buffer written by several threads, each in its own range.
    private struct Target: @unchecked Sendable { let base: UnsafeMutableRawPointer }

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() {
            lock.lock()
            value = true
            lock.unlock()
        }
        var isSet: Bool {
            lock.lock()
            defer { lock.unlock() }
            return value
        }
    }
}
