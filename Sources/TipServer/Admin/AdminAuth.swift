import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TipCore
import TipCrypto
import TipStore

/// Nonces seen within the timestamp window: a request is accepted once (SECURITY.md §5.1).
/// Bounded: entries older than the window are dropped, and past `capacity` new requests are
/// refused rather than the cache growing without end.
actor NonceCache {
    private var seen: [String: Int] = [:]
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    func claim(_ nonce: String, now: Int) -> Bool {
        if seen.count >= capacity / 2 { seen = seen.filter { now - $0.value <= AdminRequest.window * 2 } }
        guard seen.count < capacity, seen[nonce] == nil else { return false }
        seen[nonce] = now
        return true
    }
}

/// Checks every admin request's signature before any handler runs (SECURITY.md §5.1): a
/// registered courier key, a timestamp within the window, a fresh nonce, and an Ed25519
/// signature over method, path, timestamp, nonce and the body's hash. The server stores no
/// password and issues no token a thief could reuse.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: any IntakeAdministration
    let nonces: NonceCache
    let now: @Sendable () -> Int
    /// The largest admin request body (an ack for many tips).
    static var maxBody: Int { 64 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let refused = APIError(.unauthorized, "unauthorized", "the request is not signed by a registered courier key")
        guard let kid = request.headers[HTTPField.Name(AdminRequest.keyHeader)!].flatMap(KeyID.init),
            let ts = request.headers[HTTPField.Name(AdminRequest.timestampHeader)!].flatMap({ Int($0) }),
            let nonce = request.headers[HTTPField.Name(AdminRequest.nonceHeader)!], Hex.isLowercaseHex(nonce, length: 32),
            let sig = request.headers[HTTPField.Name(AdminRequest.signatureHeader)!].flatMap(StrictBase64.decode)
        else { throw refused }
        let t = now()
        // The timestamp is the client's, any Int: `t - ts` could overflow and trap (Int.min
        // once ended the whole server, before any key was looked at), so the distance is
        // taken without overflow.
        let (distance, overflow) = t.subtractingReportingOverflow(ts)
        guard !overflow, distance.magnitude <= UInt(AdminRequest.window) else {
            throw APIError(.unauthorized, "stale_request", "the request's timestamp is outside the allowed window; check the clock")
        }
        guard let key = try store.reviewerKey(kid) else { throw refused }
        let body = try await BodyReader.collect(request, limit: Self.maxBody)
        let message = AdminRequest.message(
            method: request.method.rawValue, path: request.uri.path, timestamp: ts, nonce: nonce, bodySHA512: SHA512.hash(body))
        guard SigningKeyPair.verify(Array(sig), message, publicKey: key) else { throw refused }
        // Claimed only after the signature checks, so nobody can burn someone else's nonces.
        guard await nonces.claim(nonce, now: t) else {
            throw APIError(.unauthorized, "replayed_request", "this request was already received")
        }
        var request = request
        request.body = .init(buffer: ByteBuffer(bytes: body))
        return try await next(request, context)
    }
}
