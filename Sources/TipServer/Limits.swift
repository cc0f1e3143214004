import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head has not arrived within `timeout` (SECURITY.md §4.3,
/// slowloris): the idle timeout alone resets on every byte, so a client dribbling a header a
/// byte at a time would hold its connection forever. The deadline restarts after each
/// response, for the next request on a kept-alive connection.
final class HeaderDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) { arm(context) }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { ctx.value.close(promise: nil) }
    }
}

/// The no-JavaScript path's own limits (SECURITY.md §4.3): it cannot solve puzzles, so it gets
/// a token bucket and a concurrency cap of its own, both global (no client identifier), and it
/// may not use the last `reserve` bytes of disk above the floor, which stay for sealed tips.
actor NoJSLimiter {
    let rate: Double
    let burst: Double
    let maxInFlight: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private var inFlight = 0

    init(ratePerSecond: Double, burst: Int, maxInFlight: Int) {
        rate = ratePerSecond
        self.burst = Double(burst)
        self.maxInFlight = maxInFlight
        tokens = Double(burst)
        last = .now
    }

    /// True if a request may proceed; it must then call `leave()`.
    func enter() -> Bool {
        let now = ContinuousClock.now
        let dt = now - last
        last = now
        tokens = min(burst, tokens + rate * (Double(dt.components.seconds) + Double(dt.components.attoseconds) / 1e18))
        guard inFlight < maxInFlight, tokens >= 1 else { return false }
        tokens -= 1
        inFlight += 1
        return true
    }

    func leave() { inFlight -= 1 }
}
