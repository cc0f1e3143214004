import CoreMetrics
import Foundation
import Metrics
import Prometheus

/// Metrics without identifying data (SECURITY.md §4.7). Served only on the admin listener at
/// `/metrics`, and only as a snapshot refreshed every `interval`: a scrape cannot time a
/// single submission. No label carries anything about a client: routes are route patterns,
/// reasons are the stable error codes.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let accepted: CoreMetrics.Counter
    let interval: TimeInterval
    private let snapshot: NSLockedSnapshot

    public init(interval: TimeInterval = 300) {
        factory = PrometheusMetricsFactory(registry: registry)
        accepted = CoreMetrics.Counter(label: "tipgate_tips_accepted_total", factory: factory)
        self.interval = interval
        snapshot = NSLockedSnapshot()
    }

    func acceptedTip() { accepted.increment() }

    func rejected(_ code: String) {
        CoreMetrics.Counter(label: "tipgate_requests_rejected_total", dimensions: [("reason", code)], factory: factory).increment()
    }

    func duration(route: String, seconds: Double) {
        Metrics.Timer(label: "tipgate_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    public func batch(_ size: Int) {
        CoreMetrics.Recorder(label: "tipgate_write_batch_size", aggregate: true, factory: factory).record(size)
    }

    func gauge(_ label: String, _ value: Double) { CoreMetrics.Gauge(label: label, factory: factory).record(value) }

    /// The exposition text, refreshed at most once per `interval`.
    public func exposition(now: Date = Date()) -> [UInt8] {
        snapshot.get(now: now, maxAge: interval) { registry.emitToBuffer() }
    }
}

final class NSLockedSnapshot: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var taken = Date.distantPast

    func get(now: Date, maxAge: TimeInterval, make: () -> [UInt8]) -> [UInt8] {
        lock.withLock {
            if now.timeIntervalSince(taken) >= maxAge {
                bytes = make()
                taken = now
            }
            return bytes
        }
    }
}
