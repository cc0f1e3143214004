import Foundation

/// Hands memory the process freed back to the system.
enum ProcessMemory {
    typealias Trim = @convention(c) (Int) -> Int32

    /// glibc keeps the memory a flood's connections, tasks and page caches freed, in each
    /// thread's arena: an idle server after a flood stayed ~8 MB larger than a fresh one (45
    /// against 37 MiB as deployed), past issue 9's idle goal of 40 MB. `malloc_trim` returns the
    /// free pages of every arena. Swift's Glibc module does not export `<malloc.h>`, so it is
    /// looked up; where there is none (not glibc), nothing is done.
    static func trim() {
        _ = trimFunction?(0)
    }

    private static let trimFunction: Trim? = {
        #if os(Linux)
            // RTLD_DEFAULT (0): the global symbol scope, libc included.
            return dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim").map { unsafeBitCast($0, to: Trim.self) }
        #else
            return nil
        #endif
    }()
}
