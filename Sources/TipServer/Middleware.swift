import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes

/// The headers every response carries unless it set its own (SECURITY.md §4.4). Made once: as a computed
/// property of the generic middleware they were parsed and checked for every response (issue
/// 9's intake profile).
enum SecurityHeaders {
    static let fixed: [(HTTPField.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"),
        (.cacheControl, "no-store"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (.strictTransportSecurity, "max-age=63072000"),
    ]
}

/// The same headers on responses the framework writes itself, beneath the router: the 400 it
/// answers to a request it cannot parse (§4.4, "every response"). Fills only what is missing,
/// so the middleware's and handlers' values stand.
final class SecurityHeadersHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        for (name, value) in SecurityHeaders.fixed where head.headerFields[name] == nil {
            head.headerFields[name] = value
        }
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}

/// The response headers every reply carries (SECURITY.md §4.4). Written once, here.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for (name, value) in SecurityHeaders.fixed where response.headers[name] == nil {
            response.headers[name] = value
        }
        // Nothing that identifies the software or lets a client be tracked.
        for name: HTTPField.Name in [.server, .eTag, .lastModified, .setCookie] {
            response.headers[name] = nil
        }
        return response
    }
}

/// Turns every error into an `APIError` response, so the client sees only a stable code and
/// nothing about the request is logged (non-negotiable 3). Errors that are not the client's
/// fault are logged by type and code only.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let failures: FailureLog
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            metrics.rejected(e.code)
            return try e.response(from: request, context: context)
        } catch let e as HTTPError {
            let mapped: APIError =
                switch e.status {
                case .notFound: .notFound
                case .methodNotAllowed: APIError(.methodNotAllowed, "method_not_allowed", "method not allowed")
                case .contentTooLarge: APIError(.contentTooLarge, "body_too_large", "the request body is too large")
                default: APIError(e.status, "bad_request", "the request could not be handled")
                }
            return try mapped.response(from: request, context: context)
        } catch {
            // Counted, logged by the hour (§4.7): a line now would time this request.
            failures.record("request failed", error)
            return try APIError.internalError.response(from: request, context: context)
        }
    }
}

/// Request durations per route pattern (never the path as sent, which could carry anything).
struct RouteMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        defer {
            let d = ContinuousClock.now - start
            let route = context.endpointPath ?? "unmatched"
            metrics.duration(route: route, seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        return try await next(request, context)
    }
}
