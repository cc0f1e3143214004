import Foundation
import Logging
import ServiceLifecycle
import TipStore

/// The optional hard retention limit (SECURITY.md §5.2, setting `retentionDays`, off by
/// default): once an hour, tips older than the limit are deleted whether or not anyone
/// collected them. Off, nothing unacknowledged is ever dropped.
struct RetentionService: Service {
    let database: IntakeDatabase
    let days: Int
    let logger: Logger

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do {
                let n = try database.enforceRetention(days: days)
                if n > 0 { logger.warning("retention limit deleted uncollected tips", metadata: ["count": "\(n)", "days": "\(days)"]) }
            } catch {
                logger.error("retention could not run", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
