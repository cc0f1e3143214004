import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Failures that happen while handling a request (a tip that could not be stored, an
/// unexpected error), logged as a count per kind at the end of each UTC hour (SECURITY.md
/// §4.7): a log line written at the moment of one failure would time the submission that
/// met it, and journald keeps microseconds. Operators still learn of a failing disk within
/// the hour, and the metrics count every refusal.
public final class FailureLog: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    /// Counts one failure of `what` (a fixed phrase) with the error's type name.
    public func record(_ what: String, _ error: any Error) {
        let key = "\(what) (\(type(of: error)))"
        counts.withLock { $0[key, default: 0] += 1 }
    }

    /// What was counted since the last call, emptied.
    func drain() -> [String: Int] {
        counts.withLock { c in
            defer { c = [:] }
            return c
        }
    }

    /// Logs what was counted, one line a kind.
    func flush(to logger: Logger, period: String) {
        for (what, n) in drain().sorted(by: { $0.key < $1.key }) {
            logger.error("\(what)", metadata: ["count": "\(n)", "in": "\(period)"])
        }
    }
}

/// Writes the failure counts at each boundary of `period` seconds since the epoch (an hour:
/// on the UTC hour), so a line's time tells only the window, never one request's moment.
struct FailureLogService: Service {
    let failures: FailureLog
    let logger: Logger
    var period: Int = 3600

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            let now = Date().timeIntervalSince1970
            let next = (now / Double(period)).rounded(.down) * Double(period) + Double(period)
            // A shutdown (graceful or not) ends the wait at once, and the counts so far are
            // written below.
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int((next - now) * 1000))) }
            } catch { break }
            failures.flush(to: logger, period: period == 3600 ? "the last hour" : "the last \(period) s")
        }
        failures.flush(to: logger, period: "the time before shutdown")
    }
}
