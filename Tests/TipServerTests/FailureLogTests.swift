import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import TipServer

/// A log handler that keeps each line (message and metadata) for a test to read.
final class CapturedLog: LogHandler, @unchecked Sendable {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let meta = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.withLock { $0.append("\(event.level) \(event.message) \(meta)") }
    }
    var logger: Logger { Logger(label: "captured") { _ in self } }
}

/// Failures met while handling requests are logged as counts at the end of each period, never
/// one line at the moment of one request (SECURITY.md §4.7).
@Suite struct FailureLogTests {
    struct DiskGone: Error {}
    struct Other: Error {}

    @Test func failuresAreCountedAndLoggedByPeriod() async throws {
        let failures = FailureLog()
        let log = CapturedLog()
        for _ in 0..<3 { failures.record("storing a tip failed", DiskGone()) }
        failures.record("request failed", Other())
        #expect(log.lines.withLock { $0.isEmpty })
        failures.flush(to: log.logger, period: "the last hour")
        let lines = log.lines.withLock { $0 }
        #expect(lines == ["error request failed (Other) count=1 in=the last hour", "error storing a tip failed (DiskGone) count=3 in=the last hour"])
        failures.flush(to: log.logger, period: "the last hour")
        #expect(log.lines.withLock { $0.count } == 2, "a flush empties the counts")

        // The service writes them at the period's boundaries, and what is left at shutdown.
        let service = FailureLogService(failures: failures, logger: log.logger, period: 4)
        failures.record("storing a tip failed", DiskGone())
        let task = Task { try await service.run() }
        // The next boundary of 4 s (polled: this machine may be slow), then at once, well
        // before the one after, one more failure and the shutdown.
        for _ in 0..<100 where log.lines.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(log.lines.withLock { $0.last } == "error storing a tip failed (DiskGone) count=1 in=the last 4 s")
        failures.record("request failed", Other())
        task.cancel()
        _ = try? await task.value
        #expect(log.lines.withLock { $0.last } == "error request failed (Other) count=1 in=the time before shutdown")
    }
}
